package dev.forktrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Evidence;
import dev.forktrace.proto.v1.ForkFailure;
import org.junit.jupiter.api.Test;

class AllocationMessageTest {
    private static Evidence ev(String key, String subject, long value, long comparedTo) {
        return Evidence.newBuilder().setKey(key).setSubject(subject).setValue(value).setComparedTo(comparedTo).build();
    }

    @Test
    void aRealPageShortageIsSaidPlainlyWithTheTightestZone() {
        ForkFailure f = ForkFailure.newBuilder().setCause(Cause.PAGE_ALLOCATION_FAILURE).setErrno("ENOMEM")
                .addEvidence(ev("alloc.order", "pages of 2^order", 2, 0))
                .addEvidence(ev("alloc.gfp", "GFP_KERNEL_ACCOUNT|__GFP_ZERO", 0x400dc0, 0))
                .addEvidence(ev("zone.free_pages", "node 0 zone DMA (watermarks min 33, low 41, high 49 pages)", 3840, 33))
                .addEvidence(ev("zone.free_pages", "node 0 zone DMA32 (watermarks min 1514, low 1892, high 2270 pages)", 1200, 1514))
                .build();
        assertEquals("ENOMEM: a real memory shortage: an order-2 page allocation (GFP_KERNEL_ACCOUNT|__GFP_ZERO) failed "
                + "during fork. Unlike the other ENOMEM causes (memory cgroup, overcommit, pid namespace) no limit refused "
                + "it: the kernel had no memory to give; node 0 zone DMA32: 1200 free pages against its min watermark 1514.",
                Messages.allocation(f, "ENOMEM", "page allocator (order 2)"));
    }

    @Test
    void anInjectedSlabFailureIsSaidToBeTestMade() {
        ForkFailure f = ForkFailure.newBuilder().setCause(Cause.SLAB_ALLOCATION_FAILURE).setErrno("ENOMEM")
                .addEvidence(ev("slab.cache", "cred_jar", 1, 0))
                .addEvidence(ev("alloc.gfp", "GFP_KERNEL", 0xcc0, 0))
                .addEvidence(ev("fault_injection", "failslab", 1, 0))
                .build();
        assertEquals("ENOMEM: fault injection (failslab) failed the slab allocation from cache cred_jar (GFP_KERNEL) during "
                + "fork: a test-made failure, neither a limit nor a real shortage.",
                Messages.allocation(f, "ENOMEM", "slab cache cred_jar"));
    }
}
