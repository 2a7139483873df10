import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The JVM of tests/integration/50-java-agent.sh: prints its pid and main thread's tid, optionally waits
 * for a trigger file (time to attach the agent), then starts parked threads until Thread.start throws.
 * spawnUntilRefused is the caller the agent's stack must name.
 */
public class AgentTarget {
    public static void main(String[] args) throws Exception {
        String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString().split("/")[2];
        System.out.println("READY pid=" + ProcessHandle.current().pid() + " tid=" + tid);
        if (args.length > 0) {
            Path trigger = Path.of(args[0]);
            while (!Files.exists(trigger)) {
                Thread.sleep(50); // no new threads: the pids limit is for the storm below
            }
        }
        spawnUntilRefused();
    }

    static void spawnUntilRefused() {
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; ; i++) {
            Thread t = new Thread(() -> {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    // exit
                }
            }, "storm-" + i);
            t.setDaemon(true);
            try {
                t.start();
            } catch (OutOfMemoryError e) {
                // The agent must hand back the JVM's own error, untouched.
                System.out.println("CAUGHT " + e.getClass().getName() + " new=storm-" + i + " top=" + e.getStackTrace()[0]
                        + " message=" + e.getMessage());
                System.exit(0);
            }
        }
    }
}
