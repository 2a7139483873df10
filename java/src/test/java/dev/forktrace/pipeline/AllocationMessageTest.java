package dev.forktrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forktrace.proto.v1.Cause;
import org.junit.jupiter.api.Test;

class AllocationMessageTest {
    private static Diagnosis failure(Cause cause, String[][] evidence) {
        Diagnosis d = new Diagnosis();
        d.cause = cause;
        d.errno = "ENOMEM";
        for (String[] row : evidence) {
            d.addEvidence(row[0], row[1], Long.parseLong(row[2]), Long.parseLong(row[3]), "");
        }
        return d;
    }

    @Test
    void aRealPageShortageIsSaidPlainlyWithTheTightestZone() {
        Diagnosis f = failure(Cause.PAGE_ALLOCATION_FAILURE, new String[][] {
                {"alloc.order", "pages of 2^order", "2", "0"},
                {"alloc.gfp", "GFP_KERNEL_ACCOUNT|__GFP_ZERO", "" + 0x400dc0, "0"},
                {"zone.free_pages", "node 0 zone DMA (watermarks min 33, low 41, high 49 pages)", "3840", "33"},
                {"zone.free_pages", "node 0 zone DMA32 (watermarks min 1514, low 1892, high 2270 pages)", "1200", "1514"}});
        assertEquals("ENOMEM: a real memory shortage: an order-2 page allocation (GFP_KERNEL_ACCOUNT|__GFP_ZERO) failed "
                + "during fork. Unlike the other ENOMEM causes (memory cgroup, overcommit, pid namespace) no limit refused "
                + "it: the kernel had no memory to give; node 0 zone DMA32: 1200 free pages against its min watermark 1514.",
                Messages.allocation(f, "ENOMEM", "page allocator (order 2)"));
    }

    @Test
    void anInjectedSlabFailureIsSaidToBeTestMade() {
        Diagnosis f = failure(Cause.SLAB_ALLOCATION_FAILURE, new String[][] {
                {"slab.cache", "cred_jar", "1", "0"},
                {"alloc.gfp", "GFP_KERNEL", "" + 0xcc0, "0"},
                {"fault_injection", "failslab", "1", "0"}});
        assertEquals("ENOMEM: fault injection (failslab) failed the slab allocation from cache cred_jar (GFP_KERNEL) during "
                + "fork: a test-made failure, neither a limit nor a real shortage.",
                Messages.allocation(f, "ENOMEM", "slab cache cred_jar"));
    }
}
