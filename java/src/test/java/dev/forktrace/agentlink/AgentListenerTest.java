package dev.forktrace.agentlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentListenerTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
    private final JavaJoiner joiner = new JavaJoiner(System::nanoTime, 0);
    private final long self = ProcessHandle.current().pid();

    private static SocketChannel connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 500 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), "condition not reached within 5 s");
    }

    private String failure(long pid) {
        return "{\"type\":\"failure\",\"pid\":" + pid + ",\"tid\":" + pid + ",\"monotonicNanos\":" + System.nanoTime()
                + ",\"stack\":[\"a.B.c(B.java:1)\"]}\n";
    }

    @Test
    void helloRegistersTheJvmReportsReachTheJoinerAndGarbageIsLoggedOnce() throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log)) {
            assertEquals("rw-rw-rw-", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            try (SocketChannel ch = connect(socket)) {
                send(ch, "this is not json\n{\"type\":\"failure\",\"pid\":1,\"tid\":1}\n"); // garbage; report before hello
                send(ch, "{\"type\":\"hello\",\"pid\":" + self + "}\n");
                ByteBuffer ack = ByteBuffer.allocate(3);
                while (ack.hasRemaining() && ch.read(ack) >= 0) { } // blocking: the agent waits for this reply
                assertEquals("ok\n", new String(ack.array(), StandardCharsets.US_ASCII), "a hello is acknowledged");
                assertEquals(1, joiner.agentsConnected(), "registered before the acknowledgement");
                // a report split across writes, then one for another pid on this connection
                String line = failure(self);
                send(ch, line.substring(0, 20));
                Thread.sleep(20);
                send(ch, line.substring(20) + failure(self + 1) + "{\"pid\":\n");
                await(() -> joiner.reports() == 1);
                await(() -> listener.badInput() == 4); // garbage, report before hello, other pid, cut line
            }
            await(() -> joiner.agentsConnected() == 0); // closing the connection unregisters the JVM
            String logged = logBytes.toString(StandardCharsets.UTF_8);
            assertEquals(1, logged.lines().count(), logged);
            assertTrue(logged.contains("bad input"), logged);
        }
        assertFalse(Files.exists(socket), "the socket file is removed on close");
    }

    @Test
    void overlongLinesDropTheConnectionNotTheListener() throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log)) {
            try (SocketChannel ch = connect(socket)) {
                send(ch, "{\"type\":\"hello\",\"pid\":" + self + "}\n");
                byte[] junk = new byte[AgentListener.MAX_LINE + 10];
                java.util.Arrays.fill(junk, (byte) 'x');
                try {
                    send(ch, new String(junk, StandardCharsets.US_ASCII));
                } catch (IOException expected) {
                    // the listener may close first
                }
                await(() -> joiner.agentsConnected() == 0 && listener.badInput() >= 1);
            }
            try (SocketChannel ch = connect(socket)) { // still accepting
                send(ch, "{\"type\":\"hello\",\"pid\":" + self + "}\n" + failure(self));
                await(() -> joiner.reports() == 1);
            }
        }
    }

    @Test
    void helloForAPidThatIsNoProcessIsRefused() throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log); SocketChannel ch = connect(socket)) {
            send(ch, "{\"type\":\"hello\",\"pid\":2147483647}\n");
            await(() -> listener.badInput() == 1);
            assertEquals(0, joiner.agentsConnected());
        }
    }

    @Test
    void aLiveListenerIsNeverReplacedAStaleSocketFileIs() throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (AgentListener first = AgentListener.open(socket, false, joiner, log)) {
            IOException e = assertThrows(IOException.class, () -> AgentListener.open(socket, false, joiner, log));
            assertTrue(e.getMessage().contains("another process"), e.getMessage());
        }
        // a file left behind by a killed forktrace
        try (var server = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        try (AgentListener second = AgentListener.open(socket, false, joiner, log); SocketChannel ch = connect(socket)) {
            send(ch, "{\"type\":\"hello\",\"pid\":" + self + "}\n");
            await(() -> joiner.agentsConnected() == 1);
        }
    }

    private static String hello(long pid) {
        return "{\"type\":\"hello\",\"pid\":" + pid + "}\n";
    }

    /** The listener still registers a JVM and takes its report: nothing before silenced it. */
    private void stillServes(Path socket) throws Exception {
        long before = joiner.reports();
        try (SocketChannel ch = connect(socket)) {
            send(ch, hello(self) + failure(self));
            await(() -> joiner.reports() == before + 1);
        }
    }

    @Test
    void deeplyNestedJsonIsBadInputNotAStackOverflow() throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log)) {
            try (SocketChannel ch = connect(socket)) {
                send(ch, "[".repeat(100_000) + "]".repeat(100_000) + "\n");
                await(() -> listener.badInput() == 1);
            }
            await(() -> logBytes.toString(StandardCharsets.UTF_8).contains("nested deeper than")); // printed after counting
            stillServes(socket);
            assertEquals(0, listener.refusals().restarts());
        }
    }

    @Test
    void oneUserCannotHoldEveryConnection() throws Exception {
        Path socket = dir.resolve("agent.sock");
        java.util.List<SocketChannel> held = new java.util.ArrayList<>();
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log)) {
            for (int i = 0; i < AgentListener.MAX_CONNECTIONS_PER_USER + 10; i++) {
                held.add(connect(socket)); // the kernel queues them; the listener accepts and refuses
            }
            await(() -> listener.refusals().overUserLimit() == 10);
            assertEquals(AgentListener.MAX_CONNECTIONS_PER_USER, listener.connections());
            held.forEach(AgentListenerTest::closeQuietly);
            stillServes(socket); // the cap counts live connections: closed ones free their places
            assertTrue(listener.refusals().toString().contains("10 connection(s) over the per-user limit"),
                    listener.refusals().toString());
        } finally {
            held.forEach(AgentListenerTest::closeQuietly);
        }
    }

    @Test
    void unfinishedLinesAreBoundedPerUser() throws Exception {
        Path socket = dir.resolve("agent.sock");
        java.util.List<SocketChannel> held = new java.util.ArrayList<>();
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log)) {
            String chunk = "x".repeat(200 * 1024); // each within MAX_LINE, together over the user's budget
            for (int i = 0; i < 12; i++) {
                SocketChannel ch = connect(socket);
                held.add(ch);
                try {
                    send(ch, chunk);
                } catch (IOException dropped) {
                    // the listener may already have dropped it
                }
            }
            await(() -> listener.refusals().overBudget() >= 1);
            held.forEach(AgentListenerTest::closeQuietly);
            stillServes(socket);
        } finally {
            held.forEach(AgentListenerTest::closeQuietly);
        }
    }

    @Test
    void connectionsWithoutHelloAreDroppedAfterTheIdleTimeoutAgentsAreNot() throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (AgentListener listener = AgentListener.open(socket, false, joiner, log, 200_000_000L);
                SocketChannel idle = connect(socket); SocketChannel agent = connect(socket)) {
            send(agent, hello(self));
            await(() -> joiner.agentsConnected() == 1);
            await(() -> listener.refusals().idle() == 1);
            ByteBuffer b = ByteBuffer.allocate(1);
            assertEquals(-1, idle.read(b), "the idle connection was closed by the listener");
            Thread.sleep(500);
            assertEquals(1, listener.refusals().idle(), "a registered agent is never idle");
            assertEquals(1, joiner.agentsConnected());
            send(agent, failure(self));
            await(() -> joiner.reports() == 1);
        }
    }

    @Test
    void parentDirectoryIsCreatedOnlyWhenAsked() throws Exception {
        Path socket = dir.resolve("missing/deeper/agent.sock");
        IOException e = assertThrows(IOException.class, () -> AgentListener.open(socket, false, joiner, log));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("missing")));
        try (AgentListener listener = AgentListener.open(socket, true, joiner, log)) {
            assertTrue(Files.exists(socket));
        }
    }

    @Test
    void onlyASocketIsEverReplaced() throws Exception {
        Path file = Files.writeString(dir.resolve("important.txt"), "precious");
        IOException e = assertThrows(IOException.class, () -> AgentListener.open(file, false, joiner, log));
        assertTrue(e.getMessage().contains("a regular file, not a socket"), e.getMessage());
        assertEquals("precious", Files.readString(file));
        Path link = Files.createSymbolicLink(dir.resolve("link"), file);
        e = assertThrows(IOException.class, () -> AgentListener.open(link, false, joiner, log));
        assertTrue(e.getMessage().contains("a symbolic link"), e.getMessage());
        assertEquals("a directory", AgentListener.fileKind(dir));
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // test clean-up
        }
    }
}
