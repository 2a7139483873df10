package dev.forktrace.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AllocationFailureTest {
    @Test
    void pageAllocationFailureLineGivesOrderAndTheKernelsNames() {
        AllocationFailure f = AllocationFailure.of("java: page allocation failure: order:4, mode:0x40cc0(GFP_KERNEL|__GFP_COMP),"
                + " nodemask=(null),cpuset=/,mems_allowed=0", false, 0, 0, 0);
        assertEquals(4, f.order());
        assertEquals(0x40cc0, f.gfp());
        assertEquals("GFP_KERNEL|__GFP_COMP", f.gfpNames());
        assertFalse(f.injected());
    }

    @Test
    void slubLineGivesTheGfpAndNoOrder() {
        AllocationFailure f = AllocationFailure.of("SLUB: Unable to allocate memory on node -1, gfp=0x400cc0(GFP_KERNEL_ACCOUNT)",
                false, 0, 0, 0);
        assertEquals(-1, f.order());
        assertEquals(0x400cc0, f.gfp());
        assertEquals("GFP_KERNEL_ACCOUNT", f.gfpNames());
    }

    @Test
    void vmallocErrorLineGivesThePageOrder() {
        AllocationFailure f = AllocationFailure.of("forkloop: vmalloc error: size 16384, page order 0, failed to allocate pages,"
                + " mode:0xdc0(GFP_KERNEL|__GFP_ZERO), nodemask=(null)", false, 0, 0, 0);
        assertEquals(0, f.order());
        assertEquals("GFP_KERNEL|__GFP_ZERO", f.gfpNames());
    }

    @Test
    void aReportCutBeforeTheNamesIsDecodedFromTheMask() {
        // the BPF side keeps 127 bytes of the line: the parenthesised names may be cut off
        AllocationFailure f = AllocationFailure.of("a-very-long-comm: page allocation failure: order:2, mode:0x400dc0", false, 0, 0, 0);
        assertEquals("GFP_KERNEL_ACCOUNT|__GFP_ZERO", f.gfpNames());
    }

    @Test
    void hooksAloneGiveAnInjectedFailure() {
        AllocationFailure f = AllocationFailure.of("", true, 0x400dc0, 2, 2);
        assertEquals(2, f.order());
        assertEquals(AllocationFailure.FAIL_PAGE_ALLOC, f.injector());
        assertTrue(f.injected());
        assertEquals(AllocationFailure.FAILSLAB, AllocationFailure.of("", true, 0xcc0, -1, 1).injector());
    }

    @Test
    void nothingKnownGivesNoNumbers() {
        AllocationFailure f = AllocationFailure.of("", false, 0, 0, 0);
        assertEquals(-1, f.order());
        assertEquals(-1, f.gfp());
        assertEquals("", f.gfpNames());
    }

    @Test
    void gfpNamesFollowTheKernelsCompoundFirstOrder() {
        assertEquals("GFP_KERNEL", AllocationFailure.gfpNames(0xcc0));
        assertEquals("GFP_KERNEL_ACCOUNT|__GFP_ZERO", AllocationFailure.gfpNames(0x400dc0));
        assertEquals("GFP_HIGHUSER_MOVABLE", AllocationFailure.gfpNames(0x100cca));
        assertEquals("GFP_NOWAIT|__GFP_ZERO", AllocationFailure.gfpNames(0x2900));
        assertEquals("GFP_ATOMIC|__GFP_NOWARN", AllocationFailure.gfpNames(0x2820));
        assertEquals("GFP_NOFS", AllocationFailure.gfpNames(0xc40));
        assertEquals("GFP_KERNEL|0x4000000", AllocationFailure.gfpNames(0x4000cc0));
        assertEquals("none", AllocationFailure.gfpNames(0));
    }

    static final String ZONEINFO = """
            Node 0, zone      DMA
              per-node stats
                  nr_inactive_anon 12
              pages free     3840
                    boost    0
                    min      33
                    low      41
                    high     49
                    spanned  4095
                    present  3998
                    managed  3840
                    cma      0
            Node 0, zone    DMA32
              pages free     1200
                    boost    0
                    min      1514
                    low      1892
                    high     2270
                    spanned  258048
                    present  258048
                    managed  241900
            Node 0, zone   Normal
              pages free     0
                    boost    0
                    min      0
                    low      0
                    high     0
                    spanned  0
                    present  0
                    managed  0
            """;
    static final String BUDDYINFO = """
            Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3
            Node 0, zone    DMA32    600    300      0      0      0      0      0      0      0      0      0
            """;

    @Test
    void zonesWithWatermarksAndFreeBlocks() {
        List<MemoryZones.Zone> zones = MemoryZones.parse(ZONEINFO, BUDDYINFO);
        assertEquals(2, zones.size(), "the unpopulated Normal zone is left out");
        MemoryZones.Zone dma32 = zones.get(1);
        assertEquals("node 0 zone DMA32", dma32.label());
        assertEquals(1200, dma32.freePages());
        assertEquals(1514, dma32.minPages());
        assertEquals("below_min_watermark", dma32.watermarkRelation());
        assertEquals(0, dma32.freeBlocksAtLeast(2), "no order-2 block: fragmentation");
        assertEquals(900, dma32.freeBlocksAtLeast(0));
        assertEquals("above_high_watermark", zones.get(0).watermarkRelation());
        assertArrayEquals(new long[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3}, zones.get(0).freeBlocks());
    }

    @Test
    void zonesWithoutBuddyinfo() {
        MemoryZones.Zone dma = MemoryZones.parse(ZONEINFO, null).get(0);
        assertEquals(-1, dma.freeBlocksAtLeast(1));
        assertEquals("below_low_watermark", new MemoryZones.Zone(0, "Normal", 35, 33, 41, 49, 100, new long[0]).watermarkRelation());
    }
}
