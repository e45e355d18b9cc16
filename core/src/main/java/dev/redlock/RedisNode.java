package dev.redlock;

import dev.redlock.internal.Checks;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One independent Redis master that takes part in the quorum.
 *
 * <p>Built from a {@code redis://} or {@code rediss://} (TLS) URI, with an optional password or ACL user and
 * password: {@code redis://user:secret@10.0.0.5:6379}. The node's {@link #name()} and {@link #toString()} show host
 * and port only, never the credentials. Immutable.
 *
 * @since 0.1.0
 */
public final class RedisNode {

    /** A host name (letters, digits, '-', '.', and '_' as container names have) or an IPv4 address. */
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._-]+");

    /** A database number, in the path ({@code /2}) or a parameter ({@code ?database=2}). */
    private static final Pattern DATABASE = Pattern.compile("[0-9]{1,9}");

    /** The query parameters Lettuce reads for a standalone node, lower case (Lettuce matches them so). */
    private static final Set<String> QUERY_PARAMETERS =
            Set.of("timeout", "database", "db", "clientname", "libraryname", "libraryversion", "verifypeer");

    private final RedisURI uri;
    private final String name;

    private RedisNode(RedisURI uri) {
        this.uri = uri;
        this.name = uri.getHost() + ":" + uri.getPort();
    }

    /**
     * Parses a node URI: {@code redis://[[user]:password@]host[:port][/database][?parameter=value&...]}, or
     * {@code rediss://...} for TLS. The host is a name, an IPv4 address or a bracketed IPv6 address
     * ({@code redis://[::1]:6379}); the port defaults to 6379. Characters of the user name or password that are
     * special in a URI ({@code @ / ? # %} and spaces) must be percent-encoded ({@code %40} for {@code @}). The query
     * parameters are Lettuce's: {@code timeout}, {@code database} (or {@code db}), {@code clientName},
     * {@code libraryName}, {@code libraryVersion} and {@code verifyPeer} ({@code NONE}, {@code CA} or {@code FULL}).
     *
     * @param uri the node URI; surrounding white space is ignored
     * @return the node; nothing is connected
     * @throws IllegalArgumentException if the URI is null, blank, not {@code redis://} / {@code rediss://}, or
     *     malformed: no host, a port that is not a number from 1 to 65535, more than one port, anything else after
     *     the host or port, a path other than a database number, a fragment, or an unknown or empty query parameter.
     *     The message shows the URI with its credentials replaced by {@code ***}, and never carries them elsewhere
     */
    public static RedisNode of(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("node URI must not be null or blank, got " + (uri == null ? "null" : "'" + uri + "'"));
        }
        String trimmed = uri.trim();
        if (!(trimmed.startsWith("redis://") || trimmed.startsWith("rediss://"))) {
            throw new IllegalArgumentException("node URI must start with redis:// or rediss://, got '" + redact(trimmed) + "'");
        }
        URI parsed;
        try {
            parsed = new URI(trimmed);
        } catch (URISyntaxException e) {
            // The parser's own message repeats the whole input, credentials included: only its reason and index are
            // kept, and the exception is not attached as the cause.
            int lastAt = trimmed.lastIndexOf('@');
            if (e.getIndex() > lastAt) {
                // after any credentials: a bad port after an IPv6 address fails the parser; say what is wrong with it
                // as for other hosts
                String port = portProblem(rawHostPort(trimmed));
                if (port != null) {
                    throw malformed(trimmed, port);
                }
            }
            String reason = Character.toLowerCase(e.getReason().charAt(0)) + e.getReason().substring(1);
            throw malformed(trimmed, reason + " at index " + e.getIndex()
                    + (e.getIndex() >= 0 && e.getIndex() < lastAt ? " (in the user name or password: percent-encode it)" : ""));
        }
        String authority = parsed.getRawAuthority();
        if (authority == null) {
            throw malformed(trimmed, "it has no host");
        }
        int at = authority.lastIndexOf('@');
        boolean twoAts = at > 0 && authority.lastIndexOf('@', at - 1) >= 0;
        if (twoAts || (at < 0 && trimmed.indexOf('@') >= 0 && problem(parsed, authority) != null)) {
            // An unencoded '@' in the credentials leaves two in the authority; an unencoded '/', '?' or '#' ends the
            // authority inside them, so the rest of the credentials would be reported as a host, port, path or query
            // (and show up in the message): say what is wrong with them instead.
            throw malformed(trimmed, "the user name or password has a character that must be percent-encoded "
                    + "('@' as %40, '/' as %2F, '?' as %3F, '#' as %23)");
        }
        String hostPort = authority.substring(at + 1);
        String problem = problem(parsed, hostPort);
        if (problem != null) {
            throw malformed(trimmed, problem);
        }
        String host = host(hostPort);
        int port = host.length() == hostPort.length()
                ? RedisURI.DEFAULT_REDIS_PORT
                : Integer.parseInt(hostPort.substring(host.length() + 1));
        RedisURI lettuce;
        try {
            // Lettuce reads the credentials, database and parameters from a URI whose host is a placeholder: for a
            // host java.net.URI does not take as one (a name with '_') it would read the whole "host:port" as the
            // host, and it does not decode the credentials then. The validated host and port are set afterwards.
            String credentials = at < 0 ? "" : authority.substring(0, at + 1);
            String query = parsed.getRawQuery() == null ? "" : "?" + parsed.getRawQuery();
            lettuce = RedisURI.create(new URI(parsed.getScheme() + "://" + credentials + "node" + parsed.getRawPath() + query));
        } catch (URISyntaxException | RuntimeException e) {
            // validated above, so this is not expected; the cause's message could repeat the credentials
            throw malformed(trimmed, "Lettuce cannot read it (" + e.getClass().getSimpleName() + ")");
        }
        lettuce.setHost(host);
        lettuce.setPort(port);
        return of(lettuce);
    }

    /** What is wrong with the host, port, path, fragment or query of a parsed URI, or null if nothing is. */
    private static @Nullable String problem(URI parsed, String hostPort) {
        String host = host(hostPort);
        if (host.isEmpty()) {
            return "it has no host";
        }
        // java.net.URI has checked a bracketed IPv6 address if it found a host
        if (host.startsWith("[") ? !host.endsWith("]") || parsed.getHost() == null : !HOST_NAME.matcher(host).matches()) {
            return "host '" + host + "' is not a valid host name or IP address";
        }
        String port = portProblem(hostPort);
        if (port != null) {
            return port;
        }
        String path = parsed.getRawPath();
        if (!(path == null || path.isEmpty() || path.equals("/") || DATABASE.matcher(path.substring(1)).matches())) {
            return "the path must be empty or /<database number>";
        }
        if (parsed.getRawFragment() != null) {
            return "unexpected '#' fragment";
        }
        String query = parsed.getQuery();
        if (query != null) {
            // split as Lettuce splits
            for (String parameter : query.split("[&;]")) {
                if (parameter.isEmpty()) {
                    continue;
                }
                int equals = parameter.indexOf('=');
                String name = equals < 0 ? parameter : parameter.substring(0, equals);
                if (!QUERY_PARAMETERS.contains(name.toLowerCase(Locale.ROOT))) {
                    return "unknown query parameter '" + name + "' (Lettuce reads timeout, database, db, clientName, "
                            + "libraryName, libraryVersion and verifyPeer)";
                }
                String value = equals < 0 ? "" : parameter.substring(equals + 1);
                if (value.isEmpty()) {
                    return "query parameter '" + name + "' has no value";
                }
                String lower = name.toLowerCase(Locale.ROOT);
                if ((lower.equals("database") || lower.equals("db")) && !DATABASE.matcher(value).matches()) {
                    return "query parameter " + name + " must be a number, got '" + value + "'";
                }
                if (lower.equals("verifypeer")
                        && Arrays.stream(SslVerifyMode.values()).noneMatch(mode -> mode.name().equalsIgnoreCase(value))) {
                    return "query parameter " + name + " must be one of " + Arrays.toString(SslVerifyMode.values())
                            + ", got '" + value + "'";
                }
            }
        }
        return null;
    }

    /** What is wrong with what follows the host in {@code host[:port]}, or null if nothing is. */
    private static @Nullable String portProblem(String hostPort) {
        String rest = hostPort.substring(host(hostPort).length());
        if (rest.isEmpty()) {
            return null;
        }
        if (rest.charAt(0) != ':') {
            return "unexpected '" + rest + "' after the host";
        }
        String port = rest.substring(1);
        if (port.isEmpty()) {
            return "the port is empty";
        }
        int digits = 0;
        while (digits < port.length() && port.charAt(digits) >= '0' && port.charAt(digits) <= '9') {
            digits++;
        }
        if (digits == 0) {
            return "port '" + port + "' is not a number from 1 to 65535";
        }
        if (digits < port.length()) {
            return port.charAt(digits) == ':'
                    ? "it has more than one port ('" + hostPort + "')"
                    : "unexpected '" + port.substring(digits) + "' after the port";
        }
        if (digits > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            return "port " + port + " is out of range 1 to 65535";
        }
        return null;
    }

    /** The {@code host[:port]} of a URI string that java.net.URI rejected: the authority after its last '@'. */
    private static String rawHostPort(String uri) {
        int start = Math.max(uri.indexOf("://") + 3, uri.lastIndexOf('@') + 1);
        int end = start;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        return uri.substring(start, end);
    }

    /** The host part of {@code host[:port]} or {@code [ipv6][:port]}: up to the first ':' or the closing ']'. */
    private static String host(String hostPort) {
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            return close < 0 ? hostPort : hostPort.substring(0, close + 1);
        }
        int colon = hostPort.indexOf(':');
        return colon < 0 ? hostPort : hostPort.substring(0, colon);
    }

    private static IllegalArgumentException malformed(String uri, String problem) {
        return new IllegalArgumentException("node URI '" + redact(uri) + "' is malformed: " + problem);
    }

    /**
     * Wraps a Lettuce URI (a standalone node; Sentinel and socket URIs are rejected).
     *
     * @param uri the node's Lettuce URI; copied, so later changes to it do not affect the node
     * @return the node; nothing is connected
     * @throws IllegalArgumentException if the URI is null, has no host, or names Sentinels or a Unix socket
     */
    public static RedisNode of(RedisURI uri) {
        Checks.notNull(uri, "node URI");
        if (uri.getSocket() != null || !uri.getSentinels().isEmpty()) {
            throw new IllegalArgumentException(
                    "a node must be one standalone Redis master (host and port), got " + uri.toURI().getScheme() + " URI");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new IllegalArgumentException("node URI has no host");
        }
        if (uri.getPort() < 1 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("node URI port must be from 1 to 65535, got " + uri.getPort());
        }
        return new RedisNode(RedisURI.builder(uri).build());
    }

    /**
     * The node's name, used in errors, events and metrics.
     *
     * @return {@code host:port}, without credentials
     */
    public String name() {
        return name;
    }

    /**
     * Whether the connection uses TLS.
     *
     * @return {@code true} for a {@code rediss://} node
     */
    public boolean tls() {
        return uri.isSsl();
    }

    /**
     * The Lettuce URI the client connects with. It carries the credentials: do not log it.
     *
     * @return the node's own copy (Lettuce URIs are mutable): do not change it
     */
    public RedisURI uri() {
        return uri;
    }

    /**
     * The URI with everything between the scheme and the last '@' replaced by {@code ***}: the credentials end at the
     * last '@' even when they hold an unencoded one, or an unencoded '/', '?' or '#'.
     */
    private static String redact(String uri) {
        int at = uri.lastIndexOf('@');
        if (at < 0) {
            return uri;
        }
        int scheme = uri.indexOf("://");
        int start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
        return uri.substring(0, start) + "***@" + uri.substring(at + 1);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof RedisNode && ((RedisNode) o).name.equals(name) && ((RedisNode) o).tls() == tls();
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, tls());
    }

    @Override
    public String toString() {
        return (tls() ? "rediss://" : "redis://") + name;
    }
}
