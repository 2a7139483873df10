package dev.forktrace.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The failed kernel allocation behind a SLAB_ALLOCATION_FAILURE or PAGE_ALLOCATION_FAILURE, decoded from
 * the kernel's own report line and the fault-injection hooks: the cache, the page order, the GFP flags by
 * name, and whether fault injection made it fail. This is the decoding an operator otherwise does by hand
 * from "page allocation failure: order:4, mode:0x40cc0(GFP_KERNEL|__GFP_COMP)". Pure: no I/O.
 *
 * @param order   page order of the failed allocation, -1 when unknown or a slab object
 * @param gfp     the gfp mask, -1 when unknown
 * @param gfpNames the mask by name: as the kernel printed it when it did, else {@link #gfpNames(long)}
 * @param injector "failslab", "fail_page_alloc" or "" (a real failure)
 * @param report  the kernel's line, "" when it printed none
 */
public record AllocationFailure(int order, long gfp, String gfpNames, String injector, String report) {
    public static final String FAILSLAB = "failslab", FAIL_PAGE_ALLOC = "fail_page_alloc";

    // "SLUB: Unable to allocate memory on node -1, gfp=0xcc0(GFP_KERNEL)" (mm/slub.c slab_out_of_memory)
    private static final Pattern SLUB = Pattern.compile("SLUB: Unable to allocate memory on node (-?\\d+), gfp=0x([0-9a-f]+)(?:\\(([^)]*)\\))?");
    // "<comm>: page allocation failure: order:2, mode:0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO), nodemask=..."
    private static final Pattern PAGE = Pattern.compile("page allocation failure: order:(\\d+), mode:0x([0-9a-f]+)(?:\\(([^)]*)\\))?");
    // "<comm>: vmalloc error: size 16384, page order 0, failed to allocate pages, mode:0xdc0(GFP_KERNEL|__GFP_ZERO)"
    private static final Pattern VMALLOC = Pattern.compile("vmalloc error: size \\d+, page order (\\d+),.*?mode:0x([0-9a-f]+)(?:\\(([^)]*)\\))?");

    /**
     * From the event: the report line (may be cut at 127 bytes), the hooks' gfp/order when valid, and the
     * injector (enum ft_injector). The report's own numbers win over the hooks': it is the allocation the
     * kernel gave up on (a slab's page after an injected page failure, say).
     */
    public static AllocationFailure of(String report, boolean hookValid, long hookGfp, int hookOrder, int injector) {
        int order = hookValid ? hookOrder : -1;
        long gfp = hookValid ? hookGfp : -1;
        String names = null;
        Matcher m;
        if ((m = SLUB.matcher(report)).find()) {
            order = -1;
            gfp = Long.parseLong(m.group(2), 16);
            names = m.group(3);
        } else if ((m = PAGE.matcher(report)).find() || (m = VMALLOC.matcher(report)).find()) {
            order = Integer.parseInt(m.group(1));
            gfp = Long.parseLong(m.group(2), 16);
            names = m.group(3);
        }
        if (names == null || names.isEmpty()) {
            names = gfp >= 0 ? gfpNames(gfp) : "";
        }
        String by = switch (injector) {
            case 1 -> FAILSLAB;
            case 2 -> FAIL_PAGE_ALLOC;
            default -> "";
        };
        return new AllocationFailure(order, gfp, names, by, report);
    }

    public boolean injected() {
        return !injector.isEmpty();
    }

    // ---- GFP flags by name, the way the kernel's %pGg prints them (include/linux/gfp_types.h, 6.12) ----

    private record Flag(long mask, String name) {}

    private static final long DMA = 0x01, HIGHMEM = 0x02, DMA32 = 0x04, MOVABLE = 0x08, RECLAIMABLE = 0x10,
            HIGH = 0x20, IO = 0x40, FS = 0x80, ZERO = 0x100, DIRECT_RECLAIM = 0x400, KSWAPD_RECLAIM = 0x800,
            WRITE = 0x1000, NOWARN = 0x2000, RETRY_MAYFAIL = 0x4000, NOFAIL = 0x8000, NORETRY = 0x10000,
            MEMALLOC = 0x20000, COMP = 0x40000, NOMEMALLOC = 0x80000, HARDWALL = 0x100000, THISNODE = 0x200000,
            ACCOUNT = 0x400000, ZEROTAGS = 0x800000;
    private static final long RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;
    private static final long GFP_KERNEL = RECLAIM | IO | FS, GFP_USER = GFP_KERNEL | HARDWALL,
            GFP_HIGHUSER = GFP_USER | HIGHMEM, GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | MOVABLE,
            GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | COMP | NOMEMALLOC | NOWARN) & ~RECLAIM;

    /** Compound names first, in the order of the kernel's __def_gfpflag_names, then single flags. */
    private static final List<Flag> FLAGS = List.of(
            new Flag(GFP_TRANSHUGE_LIGHT | DIRECT_RECLAIM, "GFP_TRANSHUGE"),
            new Flag(GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT"),
            new Flag(GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"),
            new Flag(GFP_HIGHUSER, "GFP_HIGHUSER"),
            new Flag(GFP_USER, "GFP_USER"),
            new Flag(GFP_KERNEL | ACCOUNT, "GFP_KERNEL_ACCOUNT"),
            new Flag(GFP_KERNEL, "GFP_KERNEL"),
            new Flag(RECLAIM | IO, "GFP_NOFS"),
            new Flag(HIGH | KSWAPD_RECLAIM, "GFP_ATOMIC"),
            new Flag(RECLAIM, "GFP_NOIO"),
            new Flag(KSWAPD_RECLAIM | NOWARN, "GFP_NOWAIT"),
            new Flag(DMA, "GFP_DMA"),
            new Flag(HIGHMEM, "__GFP_HIGHMEM"),
            new Flag(DMA32, "GFP_DMA32"),
            new Flag(HIGH, "__GFP_HIGH"),
            new Flag(IO, "__GFP_IO"),
            new Flag(FS, "__GFP_FS"),
            new Flag(NOWARN, "__GFP_NOWARN"),
            new Flag(RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"),
            new Flag(NOFAIL, "__GFP_NOFAIL"),
            new Flag(NORETRY, "__GFP_NORETRY"),
            new Flag(COMP, "__GFP_COMP"),
            new Flag(ZERO, "__GFP_ZERO"),
            new Flag(NOMEMALLOC, "__GFP_NOMEMALLOC"),
            new Flag(MEMALLOC, "__GFP_MEMALLOC"),
            new Flag(HARDWALL, "__GFP_HARDWALL"),
            new Flag(THISNODE, "__GFP_THISNODE"),
            new Flag(RECLAIMABLE, "__GFP_RECLAIMABLE"),
            new Flag(MOVABLE, "__GFP_MOVABLE"),
            new Flag(ACCOUNT, "__GFP_ACCOUNT"),
            new Flag(WRITE, "__GFP_WRITE"),
            new Flag(RECLAIM, "__GFP_RECLAIM"),
            new Flag(DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"),
            new Flag(KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"),
            new Flag(ZEROTAGS, "__GFP_ZEROTAGS"));

    /**
     * The mask by name, "GFP_KERNEL_ACCOUNT|__GFP_ZERO" style; "none" for 0. Bits above __GFP_ZEROTAGS
     * depend on the kernel's configuration (KASAN, lockdep, slab object extensions) and show as hex; 0x200
     * was __GFP_ATOMIC before 6.4 and is unused since.
     */
    public static String gfpNames(long mask) {
        if (mask == 0) {
            return "none";
        }
        List<String> names = new ArrayList<>();
        long rest = mask;
        for (Flag flag : FLAGS) {
            if ((rest & flag.mask) == flag.mask) {
                names.add(flag.name);
                rest &= ~flag.mask;
            }
        }
        if ((rest & 0x200) != 0) {
            names.add("__GFP_ATOMIC(before 6.4)");
            rest &= ~0x200L;
        }
        if (rest != 0) {
            names.add("0x" + Long.toHexString(rest));
        }
        return String.join("|", names);
    }
}
