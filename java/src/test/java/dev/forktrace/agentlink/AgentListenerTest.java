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
}
