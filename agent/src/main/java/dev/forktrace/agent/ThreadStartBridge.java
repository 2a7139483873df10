package dev.forktrace.agent;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Loaded from the bootstrap path; {@link #onStartFailure} runs only when Thread#start throws
 * OutOfMemoryError, so a successful start never reaches this class.
 *
 * <p>Protocol (one JSON object per line, UTF-8): a {@code hello} naming the JVM when the connection
 * opens, answered by forktrace with "ok\n" once it holds that JVM's thread failures for reports, then one
 * {@code failure} per failed start. The connection stays open so that forktrace knows
 * which processes have an agent and waits for their reports; it is opened at install time and again
 * after a failed write (forktrace restarted).
 */
public final class ThreadStartBridge {
    static final String DEFAULT_SOCKET = "/run/forktrace/agent.sock";
    static final long HELLO_ACK_MILLIS = 250;
    private static final Object LOCK = new Object();
    private static volatile String socketPath = DEFAULT_SOCKET;
    private static SocketChannel channel; // guarded by LOCK
    private static boolean warnedUnsent; // guarded by LOCK

    private ThreadStartBridge() {}

    /** Called once at install: chooses the socket (agent option, property, environment, default) and says hello. */
    public static void configure(String agentSocketOption) {
        String path = agentSocketOption;
        if (path == null || path.isEmpty()) path = System.getProperty("forktrace.agent.socket");
        if (path == null || path.isEmpty()) path = System.getenv("FORKTRACE_AGENT_SOCKET");
        if (path == null || path.isEmpty()) path = DEFAULT_SOCKET;
        socketPath = path;
        synchronized (LOCK) {
            // no forktrace listening yet is normal: the first failure tries again
            if (connect()) {
                awaitHelloAck();
            }
        }
    }

    /**
     * Waits (at most HELLO_ACK_MILLIS) until forktrace says it registered this JVM, so that the application's
     * first failed thread start cannot reach forktrace before the hello does. A forktrace that does not
     * answer (an older one, or a stalled one) only costs this wait, once, at install.
     */
    private static void awaitHelloAck() {
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            ByteBuffer reply = ByteBuffer.allocate(16);
            long deadline = System.nanoTime() + HELLO_ACK_MILLIS * 1_000_000L;
            long left;
            while ((left = deadline - System.nanoTime()) > 0) {
                selector.select(Math.max(1, left / 1_000_000L));
                selector.selectedKeys().clear();
                if (channel.read(reply) < 0) {
                    return;
                }
                for (int i = 0; i < reply.position(); i++) {
                    if (reply.get(i) == '\n') {
                        return;
                    }
                }
            }
        } catch (Exception e) {
            // the wait is an optimisation of the join; reporting works without it
        } // closing the selector deregisters the channel, which stays open for the reports
    }

    public static void onStartFailure(Thread newThread, Throwable error) {
        try {
            // Read the clocks first: the join with the kernel's event is by time, and the report's cost
            // (stack walk, JSON, socket) must not move it.
            long monotonic = System.nanoTime();
            Instant wall = Instant.now();
            String line = failureJson(newThread, error, monotonic, wall);
            synchronized (LOCK) {
                if (!write(line)) {
                    if (!warnedUnsent) {
                        warnedUnsent = true;
                        System.err.println("forktrace-agent: no forktrace listening on " + socketPath
                                + "; failed thread starts are not reported (this is printed once)");
                    }
                }
            }
        } catch (Throwable t) {
            // The application must see its own OutOfMemoryError, never one of ours.
            try { System.err.println("forktrace-agent: report failed: " + t); } catch (Throwable ignored) { }
        }
    }

    /** Writes on the open connection; when there is none or it broke (forktrace restarted), on a new one. */
    private static boolean write(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        if (channel != null && send(bytes)) return true;
        return connect() && send(bytes);
    }

    /**
     * Non-blocking, so a forktrace that stopped reading can never stall the application's thread: a
     * line that does not fit the socket buffer whole closes the connection (forktrace drops the partial
     * line at end of stream).
     */
    private static boolean send(byte[] bytes) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            channel.write(buf);
            if (buf.hasRemaining()) {
                close();
                return false;
            }
            return true;
        } catch (IOException e) {
            close();
            return false;
        }
    }

    private static boolean connect() {
        close();
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socketPath)); // a Unix socket connects or fails at once
            ch.configureBlocking(false);
            channel = ch;
            return send((helloJson() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            if (ch != null) {
                try { ch.close(); } catch (IOException ignored) { }
            }
            channel = null;
            return false;
        }
    }

    private static void close() {
        if (channel != null) {
            try { channel.close(); } catch (IOException ignored) { }
            channel = null;
        }
    }

    static String helloJson() {
        StringBuilder b = new StringBuilder(128).append("{\"type\":\"hello\",\"pid\":").append(ProcessHandle.current().pid())
                .append(",\"javaVersion\":");
        quote(b, System.getProperty("java.version", ""));
        return b.append('}').toString();
    }

    static String failureJson(Thread newThread, Throwable error, long monotonicNanos, Instant wall) throws IOException {
        // The kernel reports the failing thread by its tid; Java has no API for it, /proc does.
        String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString(); // "PID/task/TID"
        String[] parts = self.split("/");
        StringBuilder b = new StringBuilder(512).append("{\"type\":\"failure\",\"pid\":").append(parts[0])
                .append(",\"tid\":").append(parts[2])
                // System.nanoTime is CLOCK_MONOTONIC on Linux HotSpot, the kernel's ktime; the wall time
                // (one reading) is for JVMs where it is not, e.g. in a time namespace.
                .append(",\"monotonicNanos\":").append(monotonicNanos)
                .append(",\"wallNanos\":").append(wall.getEpochSecond() * 1_000_000_000L + wall.getNano())
                .append(",\"threadName\":"); quote(b, Thread.currentThread().getName());
        b.append(",\"newThreadName\":"); quote(b, newThread.getName());
        b.append(",\"error\":"); quote(b, String.valueOf(error.getMessage()));
        // What the JVM runs (main class or jar): forktrace reads it from /proc too, but a JVM that exits
        // right after the error may be gone by then.
        String command = System.getProperty("sun.java.command", "").strip();
        int space = command.indexOf(' ');
        b.append(",\"main\":"); quote(b, space < 0 ? command : command.substring(0, space));
        b.append(",\"stack\":[");
        StackTraceElement[] stack = error.getStackTrace();
        for (int i = 0; i < stack.length; i++) { if (i > 0) b.append(','); quote(b, stack[i].toString()); }
        return b.append("]}").toString();
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        b.append('"');
    }
}
