package dev.forktrace.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Names of Linux x86_64 errno values and clone flags, for output. */
public final class KernelNames {
    private static final String[] ERRNO = {
        null, "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
        "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
        "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS",
        "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP",
    };
    private static final String[][] CLONE_FLAGS = {
        {"0x00000100", "CLONE_VM"}, {"0x00000200", "CLONE_FS"}, {"0x00000400", "CLONE_FILES"},
        {"0x00000800", "CLONE_SIGHAND"}, {"0x00001000", "CLONE_PIDFD"}, {"0x00002000", "CLONE_PTRACE"},
        {"0x00004000", "CLONE_VFORK"}, {"0x00008000", "CLONE_PARENT"}, {"0x00010000", "CLONE_THREAD"},
        {"0x00020000", "CLONE_NEWNS"}, {"0x00040000", "CLONE_SYSVSEM"}, {"0x00080000", "CLONE_SETTLS"},
        {"0x00100000", "CLONE_PARENT_SETTID"}, {"0x00200000", "CLONE_CHILD_CLEARTID"}, {"0x00400000", "CLONE_DETACHED"},
        {"0x00800000", "CLONE_UNTRACED"}, {"0x01000000", "CLONE_CHILD_SETTID"}, {"0x02000000", "CLONE_NEWCGROUP"},
        {"0x04000000", "CLONE_NEWUTS"}, {"0x08000000", "CLONE_NEWIPC"}, {"0x10000000", "CLONE_NEWUSER"},
        {"0x20000000", "CLONE_NEWPID"}, {"0x40000000", "CLONE_NEWNET"}, {"0x80000000", "CLONE_IO"},
        {"0x00000080", "CLONE_NEWTIME"}, {"0x100000000", "CLONE_CLEAR_SIGHAND"}, {"0x200000000", "CLONE_INTO_CGROUP"},
    };
    public static final long CLONE_THREAD = 0x00010000L;
    /**
     * The exit signal in the low byte (CSIGNAL is 0xff), less bit 0x80: that bit is CLONE_NEWTIME
     * (clone3 and unshare only, 5.6 "ns: Introduce Time Namespace"), and no signal number reaches 128.
     */
    private static final long EXIT_SIGNAL = 0x7f;

    private KernelNames() {}

    public static String errnoName(int errno) {
        if (errno == 87) {
            return "EUSERS";
        }
        if (errno == 513) {
            return "ERESTARTNOINTR";
        }
        return errno > 0 && errno < ERRNO.length ? ERRNO[errno] : "E" + errno;
    }

    /** Flag combinations seen so far: a process or thread pool passes the same flags every time. */
    private static final Map<Long, List<String>> FLAG_NAMES = new ConcurrentHashMap<>();

    public static List<String> cloneFlagNames(long flags) {
        List<String> names = FLAG_NAMES.get(flags);
        if (names == null) {
            names = List.copyOf(decodeCloneFlags(flags));
            if (FLAG_NAMES.size() < 1024) {
                FLAG_NAMES.put(flags, names);
            }
        }
        return names;
    }

    private static List<String> decodeCloneFlags(long flags) {
        List<String> names = new ArrayList<>();
        for (String[] flag : CLONE_FLAGS) {
            if ((flags & Long.decode(flag[0])) != 0) {
                names.add(flag[1]);
            }
        }
        long exitSignal = flags & EXIT_SIGNAL;
        if (exitSignal == 17) {
            names.add("SIGCHLD");
        } else if (exitSignal != 0) {
            names.add("signal " + exitSignal);
        }
        return names;
    }
}
