import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a hostile local user sends to forktrace's agent socket (tests/integration/51-agent-listener-hostile.sh):
 * deeply nested JSON, CONNECTIONS connections each holding BYTES bytes without a newline, and IDLE idle
 * connections; prints HOLDING and keeps them all open until the RELEASE file exists.
 * Usage: HostileAgentClient SOCKET CONNECTIONS BYTES IDLE RELEASE
 */
public class HostileAgentClient {
    public static void main(String[] args) throws Exception {
        UnixDomainSocketAddress socket = UnixDomainSocketAddress.of(args[0]);
        int holders = Integer.parseInt(args[1]);
        int bytes = Integer.parseInt(args[2]);
        int idle = Integer.parseInt(args[3]);
        Path release = Path.of(args[4]);
        List<SocketChannel> open = new ArrayList<>();
        try (SocketChannel deep = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            deep.connect(socket);
            write(deep, "[".repeat(100_000) + "]".repeat(100_000) + "\n");
        }
        byte[] junk = new byte[bytes];
        java.util.Arrays.fill(junk, (byte) 'x');
        int written = 0;
        for (int i = 0; i < holders; i++) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(socket);
            open.add(ch);
            try {
                write(ch, new String(junk, java.nio.charset.StandardCharsets.US_ASCII));
                written++;
            } catch (java.io.IOException dropped) {
                // forktrace closed it: that is the defence
            }
        }
        int connected = 0;
        for (int i = 0; i < idle; i++) {
            try {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(socket);
                open.add(ch);
                connected++;
            } catch (java.io.IOException refused) {
                // the backlog is full while forktrace refuses
            }
        }
        System.out.println("HOLDING holders=" + holders + " fully-written=" + written + " idle-connected=" + connected);
        while (!Files.exists(release)) {
            Thread.sleep(100);
        }
        for (SocketChannel ch : open) {
            ch.close();
        }
    }

    private static void write(SocketChannel ch, String text) throws java.io.IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
