package dev.forktrace.bpf;

/**
 * The design hooks, in the order and with the names of native/forktrace_shim.h's FT_HOOKS (enum ft_hook):
 * EventLayoutTest checks both against the layout dump. Coverage, doctor, the attached line and the stream
 * header all name hooks through this one table.
 */
public enum HookPoint {
    SYSCALLS("syscalls"),
    COPY_PROCESS("copy_process"),
    ALLOC_PID("alloc_pid"),
    PIDS_CAN_FORK("pids_can_fork"),
    SLAB_OUT_OF_MEMORY("slab_out_of_memory"),
    IS_RLIMIT_OVERLIMIT("is_rlimit_overlimit"),
    PAGE_COUNTER_TRY_CHARGE("page_counter_try_charge"),
    VM_ENOUGH_MEMORY("__vm_enough_memory"),
    SHOULD_FAILSLAB("should_failslab"),
    SHOULD_FAIL_ALLOC_PAGE("should_fail_alloc_page"),
    CONSOLE("console"),
    PROCESS_TREE("process_tree"),
    CGROUP_MOVES("cgroup_attach_task");

    private static final HookPoint[] BY_ID = values();

    private final String hookName;

    HookPoint(String hookName) {
        this.hookName = hookName;
    }

    /** The name users see (doctor, the stream header): the kernel function or tracepoint it hooks. */
    public String hookName() {
        return hookName;
    }

    /** The hook with this enum ft_hook value. */
    public static HookPoint ofId(int id) {
        if (id < 0 || id >= BY_ID.length) {
            throw new IllegalArgumentException("the shim reported hook " + id + ", which this forktrace does not know");
        }
        return BY_ID[id];
    }
}
