import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Starts named threads ("worker-N") until the JVM throws "OutOfMemoryError: unable to create native
 * thread", the message that makes people add memory. Run inside a pids cgroup (see run.sh): the real
 * cause is the cgroup's pids limit, as forktrace shows.
 */
public class Spawner {
    public static void main(String[] args) throws InterruptedException {
        int max = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        int failures = 0;
        try {
            for (int i = 0; i < max; i++) {
                Thread t = new Thread(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "worker-" + i);
                t.start();
                threads.add(t);
            }
        } catch (OutOfMemoryError e) {
            failures++;
            System.out.println("JVM: " + e);
        }
        release.countDown();
        for (Thread t : threads) {
            t.join();
        }
        System.out.println("started " + threads.size() + " threads");
        System.out.println("OBSERVED failures=" + failures + " errno=EAGAIN");
    }
}
