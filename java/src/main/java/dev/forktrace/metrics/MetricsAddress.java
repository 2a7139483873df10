package dev.forktrace.metrics;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Where `watch --metrics [ADDR:]PORT` listens. A bare port binds 127.0.0.1 only: metrics say which
 * cgroups and users failed, which is not for every host on the network unless asked (0.0.0.0:PORT, as the
 * DaemonSet does). IPv6 literals are written in brackets, e.g. [::1]:9464.
 */
public record MetricsAddress(InetAddress address, int port) {
    public static final String DEFAULT_HOST = "127.0.0.1";

    /** @throws IllegalArgumentException with a message fit for the user when the text is not [ADDR:]PORT */
    public static MetricsAddress parse(String text) {
        String spec = text.strip();
        String host = DEFAULT_HOST;
        String port = spec;
        if (spec.startsWith("[")) {
            int close = spec.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException("--metrics " + text + ": an IPv6 address is written [ADDR]:PORT");
            }
            host = spec.substring(1, close);
            port = spec.substring(close + 2);
        } else if (spec.contains(":")) {
            int colon = spec.lastIndexOf(':');
            if (spec.indexOf(':') != colon) {
                throw new IllegalArgumentException("--metrics " + text + ": write an IPv6 address in brackets, e.g. [::]:9464");
            }
            host = spec.substring(0, colon);
            port = spec.substring(colon + 1);
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--metrics " + text + ": '" + port + "' is not a port number; use [ADDR:]PORT, e.g. 9464 or 0.0.0.0:9464");
        }
        if (number < 0 || number > 65535) {
            throw new IllegalArgumentException("--metrics " + text + ": port " + number + " is outside 0-65535");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("--metrics " + text + ": the address before ':' is empty; use PORT alone for 127.0.0.1");
        }
        try {
            return new MetricsAddress(InetAddress.getByName(host), number);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--metrics " + text + ": unknown address '" + host + "'");
        }
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(address, port);
    }

    /** The URL to scrape, with the port actually bound (port 0 picks one). */
    public String url(int boundPort) {
        String host = address.getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + boundPort + "/metrics";
    }
}
