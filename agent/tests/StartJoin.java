/** Starts and joins N threads one after another; prints the elapsed nanoseconds. The agent's cost probe. */
public class StartJoin {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        Runnable nothing = () -> { };
        for (int i = 0; i < 2000; i++) { // warm-up: the same code paths, compiled
            Thread t = new Thread(nothing);
            t.start();
            t.join();
        }
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(nothing);
            t.start();
            t.join();
        }
        System.out.println(System.nanoTime() - start);
    }
}
