package dev.forktrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.agentlink.AgentLink;
import dev.forktrace.bpf.HookPoint;
import dev.forktrace.bpf.HookTier;
import dev.forktrace.bpf.ProbeSession.Hook;
import dev.forktrace.system.CgroupPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttachedLineTest {
    private static final CgroupPaths V1 = new CgroupPaths(Map.of(CgroupPaths.Hierarchy.PIDS, Path.of("/sys/fs/cgroup/pids"),
            CgroupPaths.Hierarchy.MEMORY, Path.of("/sys/fs/cgroup/memory")));
    private static final String NO_FENTRY = "fentry unavailable (Operation not permitted), kprobes unavailable "
            + "(Operation not supported): causes it confirms are inferred from counters instead";
    private static final String LISTENING = "agent socket " + AgentLink.DEFAULT_SOCKET + " listening";

    /** The hooks of a kernel without kprobes and with fentry refused: syscall and console tracepoints only. */
    private static List<Hook> tracepointOnly() {
        List<Hook> hooks = new ArrayList<>(List.of(new Hook(HookPoint.SYSCALLS, HookTier.TRACEPOINT, true, "syscall tracepoints, which tax every syscall slightly")));
        for (HookPoint point : List.of(HookPoint.COPY_PROCESS, HookPoint.ALLOC_PID, HookPoint.PIDS_CAN_FORK,
                HookPoint.SLAB_OUT_OF_MEMORY, HookPoint.IS_RLIMIT_OVERLIMIT, HookPoint.PAGE_COUNTER_TRY_CHARGE,
                HookPoint.VM_ENOUGH_MEMORY)) {
            hooks.add(new Hook(point, HookTier.NONE, false, NO_FENTRY));
        }
        hooks.add(new Hook(HookPoint.CONSOLE, HookTier.TRACEPOINT, true, ""));
        return hooks;
    }

    @Test
    void tracepointOnlyKernelFitsIn200Characters() {
        List<Hook> hooks = tracepointOnly();
        String line = WatchCommand.attachedLine("6.18.44-fc-v669", hooks, Coverage.of(hooks, V1, Map.of()), LISTENING);
        assertEquals("forktrace: attached to Linux 6.18.44-fc-v669, tier tracepoint; 6 confirmed, inferred "
                + "RLIMIT_NPROC THREADS_MAX PID_NAMESPACE_FULL NAMESPACE_LIMIT; " + LISTENING, line);
        assertTrue(line.length() <= 200, line.length() + " characters");
    }

    @Test
    void causesWithoutTheirControllerAreNamedAsBlind() {
        List<Hook> hooks = tracepointOnly();
        String line = WatchCommand.attachedLine("6.1.0", hooks, Coverage.of(hooks, new CgroupPaths(Map.of()), Map.of()),
                "agent socket off");
        assertTrue(line.contains(", blind to PIDS_CGROUP_LIMIT MEMCG_LIMIT; agent socket off"), line);
    }

    @Test
    void fentryKernelConfirmsMoreAndStaysShort() {
        List<Hook> hooks = new ArrayList<>();
        for (HookPoint point : List.of(HookPoint.SYSCALLS, HookPoint.COPY_PROCESS, HookPoint.ALLOC_PID,
                HookPoint.PIDS_CAN_FORK, HookPoint.SLAB_OUT_OF_MEMORY, HookPoint.IS_RLIMIT_OVERLIMIT)) {
            hooks.add(new Hook(point, HookTier.FENTRY, true, ""));
        }
        hooks.add(new Hook(HookPoint.CONSOLE, HookTier.TRACEPOINT, true, ""));
        String line = WatchCommand.attachedLine("6.12.48+deb13-cloud-amd64", hooks, Coverage.of(hooks, V1, Map.of()), LISTENING);
        assertTrue(line.startsWith("forktrace: attached to Linux 6.12.48+deb13-cloud-amd64, tier fentry+tracepoint; 8 confirmed, inferred THREADS_MAX NAMESPACE_LIMIT;"), line);
        assertTrue(line.length() <= 200, line.length() + " characters");
    }
}
