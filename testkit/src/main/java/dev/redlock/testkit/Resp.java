package dev.redlock.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Raw-socket commands, independent of any client library, used for readiness checks: {@code PING},
 * {@code INFO server}, and the few commands that set up a cluster-mode node ({@link ClusterSlots}).
 */
final class Resp {

    private Resp() {
    }

    /**
     * Connects, sends {@code PING} and returns the first reply line, e.g. {@code +PONG} or {@code -LOADING ...}.
     * Blocks for at most about twice {@code timeout} (connect, then read).
     *
     * @throws IOException when the connection is refused, times out or closes without a reply
     */
    static String ping(String host, int port, Duration timeout) throws IOException {
        int millis = (int) Math.max(1, timeout.toMillis());
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return readLine(socket.getInputStream());
        }
    }

    /**
     * Asks {@code INFO server} and returns its {@code process_id}, to make sure the node answering on a port is the
     * process that was just started. Blocks for at most about twice {@code timeout}.
     *
     * @throws IOException on connection problems, an error reply or a reply without {@code process_id}
     */
    static long serverPid(String host, int port, Duration timeout) throws IOException {
        int millis = (int) Math.max(1, timeout.toMillis());
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            socket.getOutputStream().write("INFO server\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            String header = readLine(in);
            if (!header.startsWith("$")) {
                throw new IOException("unexpected reply to INFO server from " + host + ":" + port + ": " + header);
            }
            int length;
            try {
                length = Integer.parseInt(header.substring(1));
            } catch (NumberFormatException e) {
                throw new IOException("bad bulk length in reply to INFO server: " + header, e);
            }
            byte[] body = in.readNBytes(length);
            if (body.length != length) {
                throw new IOException("INFO server reply from " + host + ":" + port + " truncated at "
                        + body.length + " of " + length + " bytes");
            }
            for (String line : new String(body, StandardCharsets.ISO_8859_1).split("\r?\n")) {
                if (line.startsWith("process_id:")) {
                    return Long.parseLong(line.substring("process_id:".length()).trim());
                }
            }
            throw new IOException("INFO server reply from " + host + ":" + port + " has no process_id");
        }
    }

    /**
     * Sends one command as a RESP array of bulk strings. Does not read the reply; see {@link #readReply}.
     *
     * @throws IOException when the connection fails
     */
    static void writeCommand(OutputStream out, List<String> args) throws IOException {
        StringBuilder command = new StringBuilder().append('*').append(args.size()).append("\r\n");
        for (String arg : args) {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            command.append('$').append(bytes.length).append("\r\n").append(arg).append("\r\n");
        }
        out.write(command.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * Reads one non-array reply: a simple string, an error, an integer or a bulk string.
     *
     * @return the reply
     * @throws IOException when the connection fails, or the reply is an array or malformed
     */
    static Reply readReply(InputStream in) throws IOException {
        String line = readLine(in);
        if (line.isEmpty()) {
            throw new IOException("empty reply line");
        }
        char type = line.charAt(0);
        switch (type) {
            case '+':
            case '-':
            case ':':
                return new Reply(type, line.substring(1));
            case '$':
                int length;
                try {
                    length = Integer.parseInt(line.substring(1));
                } catch (NumberFormatException e) {
                    throw new IOException("bad bulk length: " + line, e);
                }
                if (length < 0) {
                    return new Reply(type, null);
                }
                byte[] body = in.readNBytes(length + 2);
                if (body.length != length + 2) {
                    throw new IOException("bulk reply truncated at " + body.length + " of " + (length + 2) + " bytes");
                }
                return new Reply(type, new String(body, 0, length, StandardCharsets.UTF_8));
            default:
                throw new IOException("unexpected reply: " + line);
        }
    }

    /**
     * One reply of {@link #readReply}.
     *
     * @param type {@code '+'} simple string, {@code '-'} error, {@code ':'} integer, {@code '$'} bulk string
     * @param text the text after the type byte, or a bulk string's content ({@code null} for a null bulk string)
     */
    record Reply(char type, @Nullable String text) {

        boolean isError() {
            return type == '-';
        }

        @Override
        public String toString() {
            return type + String.valueOf(text);
        }
    }

    /** Reads one line up to CR LF or LF (excluded). */
    static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int last = line.length() - 1;
                if (last >= 0 && line.charAt(last) == '\r') {
                    line.setLength(last);
                }
                return line.toString();
            }
            line.append((char) c);
        }
        throw new IOException("connection closed after " + line.length() + " bytes without a complete line: '"
                + line + "'");
    }
}
