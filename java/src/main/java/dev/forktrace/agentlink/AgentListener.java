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
 */
public final class AgentListener implements AutoCloseable {
    /** The reply to a hello: forktrace holds this JVM's thread failures for its reports from now on. */
    static final byte[] HELLO_ACK = "ok\n".getBytes(StandardCharsets.US_ASCII);
    static final int MAX_LINE = 256 * 1024;
    static final int MAX_CONNECTIONS = 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final JavaJoiner joiner;
    private final PrintStream log;
    private final Thread thread;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong badInput = new AtomicLong();
    private volatile boolean open = true;
    private int live;

    private AgentListener(Path path, ServerSocketChannel server, Selector selector, JavaJoiner joiner, PrintStream log) {
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.joiner = joiner;
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("forktrace-agent-listener").unstarted(this::loop);
    }

    /**
     * Binds PATH, replacing a stale socket file but never one another forktrace is listening on, and
     * never anything that is not a socket (a typo such as /etc/hosts must not delete that file), and
     * starts accepting. createParent: make PATH's directory when missing (only for forktrace's own
     * default path; a directory the user named must exist, else a typo leaves root-owned directories).
     */
    public static AgentListener open(Path path, boolean createParent, JavaJoiner joiner, PrintStream log)
            throws IOException {
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
        AgentListener listener = new AgentListener(path, server, selector, joiner, log);
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

    private void loop() {
        try {
            while (open) {
                selector.select(1000);
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
                    } catch (IOException | RuntimeException e) {
                        // One connection's trouble (reset, a bug on bad input) ends that connection only.
                        bad(key.attachment() instanceof Connection c ? c : null, "connection failed: " + e);
                        drop(key);
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (ClosedSelectorException | IOException e) {
            // closed: the capture is over
        }
    }

    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            if (live >= MAX_CONNECTIONS) {
                ch.close();
                bad(null, "more than " + MAX_CONNECTIONS + " agent connections");
                continue;
            }
            ch.configureBlocking(false);
            Connection c = new Connection(ch, peer(ch));
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
        byte[] data = readBuffer.array();
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (data[i] == '\n') {
                c.append(data, start, i - start);
                line(c, new String(c.buffer, 0, c.length, StandardCharsets.UTF_8));
                c.length = 0;
                start = i + 1;
            }
        }
        c.append(data, start, n - start);
        if (c.length > MAX_LINE) {
            bad(c, "a line longer than " + MAX_LINE + " bytes");
            drop(key);
        }
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
            joiner.report(m);
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
            live--;
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

    static final class Connection {
        final SocketChannel channel;
        final String user;
        int pid;
        byte[] buffer = new byte[1024];
        int length;

        Connection(SocketChannel channel, String user) {
            this.channel = channel;
            this.user = user;
        }

        void append(byte[] data, int offset, int count) {
            if (length > MAX_LINE) {
                return; // already too long: the caller drops the connection
            }
            if (length + count > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + count));
            }
            System.arraycopy(data, offset, buffer, length, count);
            length += count;
        }
    }
}
