package dev.forktrace.agentlink;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import jdk.net.UnixDomainPrincipal;

/**
 * The Unix socket agents connect to: one thread multiplexes every connection, splits lines, parses them
 * and hands hellos and reports to the {@link JavaJoiner}. Bad input is reported once on the log and then
 * only counted; nothing an agent (or anyone else) sends can stop the capture.
 *
 * <p>The socket is open to every local user, so one user must not be able to silence it for the others:
 * connections and buffered bytes are capped per user (SO_PEERCRED) and in total, a connection that says
 * no hello or stalls inside a line is dropped after {@link #IDLE_TIMEOUT_NANOS}, any Throwable ends only
 * the connection that caused it, and the thread restarts its loop should it ever fail. Every refusal is
 * counted ({@link #refusals()}) and appears in the summary.
 */
public final class AgentListener implements AutoCloseable {
    /** The reply to a hello: forktrace holds this JVM's thread failures for its reports from now on. */
    static final byte[] HELLO_ACK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    static final int MAX_LINE = 256 * 1024;
    static final int MAX_CONNECTIONS = 1024;
    /** A user runs at most this many agent JVMs at once (each holds one connection). */
    static final int MAX_CONNECTIONS_PER_USER = 64;
    /** Bytes of unfinished lines one user may have buffered; a real report is a few KiB. */
    static final int MAX_BUFFERED_PER_USER = 1 << 20;
    /** Bytes of unfinished lines of all users together: well inside forktrace's 64 MiB heap. */
    static final int MAX_BUFFERED = 8 << 20;
    static final long IDLE_TIMEOUT_NANOS = 10_000_000_000L;
    private static final int INITIAL_BUFFER = 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final JavaJoiner joiner;
    private final PrintStream log;
    private final Thread thread;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong badInput = new AtomicLong();
    private final AtomicLong refusedOverUserLimit = new AtomicLong();
    private final AtomicLong refusedOverTotalLimit = new AtomicLong();
    private final AtomicLong droppedIdle = new AtomicLong();
    private final AtomicLong droppedOverBudget = new AtomicLong();
    private final AtomicLong connectionErrors = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();
    private final java.util.HashMap<String, Usage> usage = new java.util.HashMap<>(); // listener thread only
    private final long idleTimeoutNanos;
    private volatile boolean open = true;
    private int live;
    private long buffered;
    private long nextSweepNanos;

    private AgentListener(Path path, ServerSocketChannel server, Selector selector, JavaJoiner joiner, PrintStream log,
            long idleTimeoutNanos) {
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.joiner = joiner;
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("forktrace-agent-listener").unstarted(this::serve);
    }

    /**
     * Binds PATH, replacing a stale socket file but never one another forktrace is listening on, and
     * never anything that is not a socket (a typo such as /etc/hosts must not delete that file), and
     * starts accepting. createParent: make PATH's directory when missing (only for forktrace's own
     * default path; a directory the user named must exist, else a typo leaves root-owned directories).
     */
    public static AgentListener open(Path path, boolean createParent, JavaJoiner joiner, PrintStream log)
            throws IOException {
        return open(path, createParent, joiner, log, IDLE_TIMEOUT_NANOS);
    }

    static AgentListener open(Path path, boolean createParent, JavaJoiner joiner, PrintStream log,
            long idleTimeoutNanos) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            if (!createParent) {
                throw new IOException("its directory " + parent + " does not exist (forktrace creates only its default "
                        + "directory; create it first or choose another path)");
            }
            Files.createDirectories(parent);
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            String kind = fileKind(path);
            if (kind != null) {
                throw new IOException("it is " + kind + ", not a socket: forktrace only replaces a stale "
                        + "socket it left behind; remove it or choose another path");
            }
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(path));
                throw new IOException("another process is listening on it");
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("another process")) {
                    throw e;
                }
                Files.delete(path); // a socket nobody listens on: left by a forktrace that was killed
            }
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = null;
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            // JVMs of every user may report; each report is checked against its sender's uid (SO_PEERCRED).
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            server.configureBlocking(false);
            selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            server.close();
            if (selector != null) {
                selector.close();
            }
            Files.deleteIfExists(path);
            throw e;
        }
        AgentListener listener = new AgentListener(path, server, selector, joiner, log, idleTimeoutNanos);
        listener.thread.start();
        return listener;
    }

    /** What the file at path is when it is not a socket ("a regular file", ...), or null for a socket. */
    static String fileKind(Path path) throws IOException {
        int type = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000;
        return switch (type) {
            case 0140000 -> null;
            case 0100000 -> "a regular file";
            case 0040000 -> "a directory";
            case 0120000 -> "a symbolic link";
            case 0010000 -> "a FIFO";
            case 0020000, 0060000 -> "a device";
            default -> "not a socket";
        };
    }

    public Path path() {
        return path;
    }

    public long connections() {
        return connections.get();
    }

    public long badInput() {
        return badInput.get();
    }

    /** What the listener refused or dropped to protect itself, and how often its loop restarted. */
    public record Refusals(long overUserLimit, long overTotalLimit, long idle, long overBudget, long errors,
            long restarts, long reports) {
        public long total() {
            return overUserLimit + overTotalLimit + idle + overBudget + errors + restarts + reports;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            item(b, overUserLimit, "connection(s) over the per-user limit of " + MAX_CONNECTIONS_PER_USER);
            item(b, overTotalLimit, "connection(s) over the limit of " + MAX_CONNECTIONS);
            item(b, idle, "idle connection(s) dropped");
            item(b, overBudget, "connection(s) dropped over the buffer budget");
            item(b, errors, "connection(s) ended by an error");
            item(b, reports, "report(s) refused (too many pending)");
            item(b, restarts, "listener restart(s)");
            return b.toString();
        }

        private static void item(StringBuilder b, long n, String what) {
            if (n > 0) {
                b.append(b.isEmpty() ? "" : ", ").append(n).append(' ').append(what);
            }
        }
    }

    public Refusals refusals() {
        return new Refusals(refusedOverUserLimit.get(), refusedOverTotalLimit.get(), droppedIdle.get(),
                droppedOverBudget.get(), connectionErrors.get(), restarts.get(), joiner.refusedReports());
    }

    /** The thread's body: the loop, restarted should anything ever escape it (connections stay registered). */
    private void serve() {
        while (open) {
            try {
                loop();
            } catch (Throwable t) {
                if (!open) {
                    break;
                }
                if (restarts.getAndIncrement() == 0) {
                    log.println("forktrace: the agent listener failed (" + t + "); restarted (later failures are counted)");
                }
                try {
                    Thread.sleep(100); // a persistent fault must not spin a core
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
    }

    private void loop() throws IOException {
        try {
            while (open) {
                selector.select(1000);
                sweepIdle();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    try {
                        if (key.isAcceptable()) {
                            accept();
                        } else if (key.isReadable()) {
                            read(key);
                        }
                    } catch (Throwable e) {
                        // One connection's trouble (reset, a bug on bad input, even an Error) ends that
                        // connection only.
                        if (key.attachment() instanceof Connection c) {
                            connectionErrors.incrementAndGet();
                            bad(c, "connection failed: " + e);
                            drop(key);
                        } else if (e instanceof Error error) {
                            throw error; // the server socket itself: serve() restarts the loop
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (ClosedSelectorException e) {
            if (open) {
                throw e;
            }
            // closed: the capture is over
        }
    }

    /** Drops connections that said no hello, or stopped inside a line, for the idle timeout (once a second). */
    private void sweepIdle() {
        long now = System.nanoTime();
        if (now - nextSweepNanos < 0) {
            return;
        }
        nextSweepNanos = now + Math.min(1_000_000_000L, idleTimeoutNanos / 2);
        for (SelectionKey key : selector.keys()) {
            if (key.attachment() instanceof Connection c && (c.pid == 0 || c.length > 0)
                    && now - c.lastProgressNanos > idleTimeoutNanos) {
                droppedIdle.incrementAndGet();
                drop(key);
            }
        }
    }

    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            String user = peer(ch);
            Usage u = usage.computeIfAbsent(user == null ? "" : user, k -> new Usage());
            if (live >= MAX_CONNECTIONS || u.connections >= MAX_CONNECTIONS_PER_USER) {
                ch.close();
                (live >= MAX_CONNECTIONS ? refusedOverTotalLimit : refusedOverUserLimit).incrementAndGet();
                continue;
            }
            ch.configureBlocking(false);
            Connection c = new Connection(ch, user, u);
            u.connections++;
            reserve(c, INITIAL_BUFFER);
            ch.register(selector, SelectionKey.OP_READ, c);
            live++;
            connections.incrementAndGet();
        }
    }

    /** The connecting user, or null when the platform cannot tell (then no ownership check is made). */
    private static String peer(SocketChannel ch) {
        try {
            UnixDomainPrincipal p = ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
            return p.user().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private void read(SelectionKey key) throws IOException {
        Connection c = (Connection) key.attachment();
        readBuffer.clear();
        int n = c.channel.read(readBuffer);
        if (n < 0) {
            drop(key); // a partial last line is dropped: the agent closes rather than block on a full buffer
            return;
        }
        c.lastProgressNanos = System.nanoTime();
        byte[] data = readBuffer.array();
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (data[i] == '\n') {
                if (!append(key, c, data, start, i - start)) {
                    return;
                }
                String text = new String(c.buffer, 0, c.length, StandardCharsets.UTF_8);
                c.length = 0;
                if (c.buffer.length > 64 * 1024) { // give a long line's memory back to the budget
                    release(c, c.buffer.length - INITIAL_BUFFER);
                    c.buffer = new byte[INITIAL_BUFFER];
                }
                line(c, text);
                start = i + 1;
            }
        }
        append(key, c, data, start, n - start);
    }

    /** Appends to the connection's unfinished line; false (and the connection dropped) when it may not grow. */
    private boolean append(SelectionKey key, Connection c, byte[] data, int offset, int count) {
        int needed = c.length + count;
        if (needed > MAX_LINE) {
            bad(c, "a line longer than " + MAX_LINE + " bytes");
            drop(key);
            return false;
        }
        if (needed > c.buffer.length) {
            int capacity = Math.min(MAX_LINE, Math.max(c.buffer.length * 2, needed));
            if (!reserve(c, capacity - c.buffer.length)) {
                droppedOverBudget.incrementAndGet();
                drop(key);
                return false;
            }
            c.buffer = Arrays.copyOf(c.buffer, capacity);
        }
        System.arraycopy(data, offset, c.buffer, c.length, count);
        c.length = needed;
        return true;
    }

    /** Takes bytes from the user's and the total budget; false when either would be exceeded. */
    private boolean reserve(Connection c, int bytes) {
        if (c.usage.buffered + bytes > MAX_BUFFERED_PER_USER || buffered + bytes > MAX_BUFFERED) {
            return false;
        }
        c.usage.buffered += bytes;
        c.reserved += bytes;
        buffered += bytes;
        return true;
    }

    private void release(Connection c, int bytes) {
        c.usage.buffered -= bytes;
        c.reserved -= bytes;
        buffered -= bytes;
    }

    void line(Connection c, String text) {
        AgentMessage m;
        try {
            m = AgentMessage.parse(text);
        } catch (IllegalArgumentException e) {
            bad(c, e.getMessage());
            return;
        }
        if (m.kind() == AgentMessage.Kind.HELLO) {
            if (c.pid != 0) {
                bad(c, "a second hello");
            } else if (!mayReportFor(c, m.pid())) {
                bad(c, "pid " + m.pid() + " is not a process of the connecting user " + c.user);
            } else {
                c.pid = m.pid();
                joiner.agentConnected(c.pid);
                acknowledge(c);
            }
        } else if (c.pid == 0) {
            bad(c, "a report before hello");
        } else if (m.pid() != c.pid) {
            bad(c, "a report for pid " + m.pid() + " on the connection of pid " + c.pid);
        } else {
            joiner.report(m); // refused (and counted by the joiner) when too many reports are pending
        }
    }

    /**
     * Tells the agent its JVM is registered: the agent waits for this before the application runs, so no
     * thread failure of that JVM can reach the joiner before its hello (under load the listener may run
     * late). One small write on a fresh socket: it fits the buffer; a failure only costs the agent's wait.
     */
    private static void acknowledge(Connection c) {
        if (c.channel == null) {
            return;
        }
        try {
            c.channel.write(ByteBuffer.wrap(HELLO_ACK));
        } catch (IOException e) {
            // the agent stops waiting after its timeout; reports still arrive on this connection
        }
    }

    /** Root may speak for any process; others only for their own (else anyone could dress up others' events). */
    private static boolean mayReportFor(Connection c, int pid) {
        Path proc = Path.of("/proc", Integer.toString(pid));
        if (!Files.isDirectory(proc)) {
            return false; // not a process in forktrace's pid namespace: its events would not match anyway
        }
        if (c.user == null || c.user.equals("root")) {
            return true;
        }
        try {
            return Files.getOwner(proc).getName().equals(c.user);
        } catch (IOException e) {
            return false;
        }
    }

    private void bad(Connection c, String reason) {
        if (badInput.getAndIncrement() == 0) {
            log.println("forktrace: ignored bad input on the agent socket" + (c != null && c.pid != 0 ? " from pid " + c.pid : "")
                    + ": " + reason + " (later bad input is counted, not printed)");
        }
    }

    private void drop(SelectionKey key) {
        key.cancel();
        if (key.attachment() instanceof Connection c) {
            if (c.pid != 0) {
                joiner.agentDisconnected(c.pid);
                c.pid = 0;
            }
            if (!c.released) {
                c.released = true;
                live--;
                c.usage.connections--;
                release(c, c.reserved);
            }
            try {
                c.channel.close();
            } catch (IOException ignored) {
                // closing a socket we are done with
            }
            key.attach(null);
        }
    }

    @Override
    public void close() {
        open = false;
        try {
            selector.wakeup();
            thread.join(2000);
            for (SelectionKey key : selector.keys()) {
                if (key.attachment() instanceof Connection) {
                    drop(key);
                }
            }
            selector.close();
            server.close();
        } catch (IOException | InterruptedException e) {
            // shutting down
        } finally {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a socket file left behind is replaced by the next forktrace
            }
        }
    }

    /** One user's share of the listener (keyed by the SO_PEERCRED user name). */
    static final class Usage {
        int connections;
        long buffered;
    }

    static final class Connection {
        final SocketChannel channel;
        final String user;
        final Usage usage;
        int pid;
        byte[] buffer = new byte[INITIAL_BUFFER];
        int length;
        int reserved;
        boolean released;
        long lastProgressNanos = System.nanoTime();

        Connection(SocketChannel channel, String user, Usage usage) {
            this.channel = channel;
            this.user = user;
            this.usage = usage;
        }
    }
}
