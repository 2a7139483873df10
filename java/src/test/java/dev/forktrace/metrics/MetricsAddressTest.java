package dev.forktrace.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsAddressTest {
    @Test
    void aBarePortListensOnLoopbackOnly() {
        MetricsAddress a = MetricsAddress.parse("9464");
        assertEquals("127.0.0.1", a.address().getHostAddress());
        assertEquals(9464, a.port());
    }

    @Test
    void anAddressAndPort() {
        MetricsAddress a = MetricsAddress.parse("0.0.0.0:19161");
        assertEquals("0.0.0.0", a.address().getHostAddress());
        assertEquals(19161, a.port());
        assertEquals("http://0.0.0.0:19161/metrics", a.url(19161));
    }

    @Test
    void ipv6InBrackets() {
        MetricsAddress a = MetricsAddress.parse("[::1]:9464");
        assertEquals(9464, a.port());
        assertEquals("http://[0:0:0:0:0:0:0:1]:9464/metrics", a.url(9464));
    }

    @Test
    void badInputSaysWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse("http")).getMessage()
                .contains("'http' is not a port number"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse("70000")).getMessage()
                .contains("outside 0-65535"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse(":9464")).getMessage()
                .contains("empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse("::1:9464")).getMessage()
                .contains("brackets"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse("no-such-host.invalid:9464"))
                .getMessage().contains("unknown address"));
    }
}
