import java.util.concurrent.CountDownLatch;

/** Starts parked threads until Thread.start fails; prints the error class and message it saw. */
public class ThreadBomb {
    public static void main(String[] args) throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; ; i++) {
            Thread t = new Thread(() -> { try { never.await(); } catch (InterruptedException e) { } }, "bomb-" + i);
            t.setDaemon(true);
            try {
                startOne(t);
            } catch (OutOfMemoryError e) {
                System.out.println("CAUGHT " + e.getClass().getName() + ": " + e.getMessage() + " at bomb-" + i);
                System.exit(0);
            }
        }
    }

    static void startOne(Thread t) { t.start(); }
}
