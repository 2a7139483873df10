package dev.forktrace.cli;

import dev.forktrace.bpf.EventLayout;
import dev.forktrace.bpf.ProbeSession;
import picocli.CommandLine.Option;

/** How the kernel is hooked: --tier and --memory-hooks, the same for watch, run and doctor. */
final class HookOptions {
    enum TierChoice {
        auto(ProbeSession.TIER_AUTO), tracepoint(EventLayout.TIER_TRACEPOINT), kprobe(EventLayout.TIER_KPROBE),
        fentry(EventLayout.TIER_FENTRY);

        final int code;

        TierChoice(int code) {
            this.code = code;
        }
    }

    @Option(names = "--tier", description = "Hook tier: auto (default: the best this kernel allows per hook), "
            + "fentry, kprobe or tracepoint.")
    TierChoice tier = TierChoice.auto;

    @Option(names = "--memory-hooks", description = "Also hook page_counter_try_charge and __vm_enough_memory, so "
            + "memcg and overcommit refusals are confirmed by the kernel's own answer. They run on every memory "
            + "charge and accountable mmap of every process, so this costs all of them a little. On kernels with "
            + "fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC) also should_failslab and "
            + "should_fail_alloc_page, which name the cache, order and GFP flags of an injected failure.")
    boolean memoryHooks;

    ProbeSession.HookChoice choice() {
        return new ProbeSession.HookChoice(tier.code, memoryHooks);
    }
}
