package dev.redlock.testkit;

import dev.redlock.testkit.FaultProxy.Direction;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One client connection through a {@link FaultProxy}: the accepted client channel, the channel to the target and a
 * {@link Pipe} per direction. Both channels live on the same event loop, and every method except the constructor
 * runs there, so there is no locking; fault switches reach it through {@link #faultsChanged}.
 */
final class ProxyConnection {

    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final FaultProxy proxy;
    private final Channel client;
    private final Pipe upstream;
    private final Pipe downstream;
    private Channel server; // set once connected
    private boolean reset;

    ProxyConnection(FaultProxy proxy, Channel client) {
        this.proxy = proxy;
        this.client = client;
        this.upstream = new Pipe(this, Direction.UPSTREAM);
        this.downstream = new Pipe(this, Direction.DOWNSTREAM);
    }

    Channel client() {
        return client;
    }

    /** Installs the client side and connects to the target; the client is not read before that succeeds. */
    void open(InetSocketAddress target) {
        client.closeFuture().addListener(future -> sideClosed());
        client.pipeline().addLast("fault-proxy", new Side(upstream, downstream));
        new Bootstrap()
                .group(client.eventLoop())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new Side(downstream, upstream))
                .connect(target)
                .addListener((ChannelFutureListener) this::connected);
    }

    private void connected(ChannelFuture future) {
        if (!future.isSuccess()) {
            // target down (killed node): the client sees its connection reset right after it was accepted
            reset();
            return;
        }
        Channel connectedServer = future.channel();
        if (reset || !client.isActive()) {
            connectedServer.close();
            return;
        }
        server = connectedServer;
        connectedServer.closeFuture().addListener(closed -> sideClosed());
        upstream.attach(client, connectedServer);
        downstream.attach(connectedServer, client);
        upstream.drain();
        downstream.drain();
    }

    /** One side closed: once the client side and the target side (if it was ever connected) are, it is over. */
    private void sideClosed() {
        Channel s = server;
        if (!client.isOpen() && (s == null || !s.isOpen())) {
            proxy.ended(this);
        }
    }

    /**
     * Applies a fault switch: resets the connection if it {@link #mustReset() must be}, else lets both pipes catch
     * up.
     */
    void faultsChanged(boolean releaseNow) {
        if (reset) {
            return;
        }
        if (mustReset()) {
            reset();
            return;
        }
        upstream.refresh(releaseNow);
        downstream.refresh(releaseNow);
    }

    /**
     * Whether a blackhole dropped bytes of this connection in a direction where it is now lifted: the stream has a
     * hole and must not carry anything more (the client would take later replies for those of lost commands), so
     * the connection is reset instead, at the switch or at the first byte that would pass, whichever comes first.
     */
    boolean mustReset() {
        return (upstream.dropped() && !proxy.blackholed(Direction.UPSTREAM))
                || (downstream.dropped() && !proxy.blackholed(Direction.DOWNSTREAM));
    }

    /** Drops everything queued and closes both sides with RST. */
    void reset() {
        end(true);
    }

    /** Drops everything queued and closes both sides with FIN (the proxy is closing). */
    void close() {
        end(false);
    }

    private void end(boolean withRst) {
        if (reset) {
            return;
        }
        reset = true;
        upstream.abort();
        downstream.abort();
        for (Channel channel : server == null ? new Channel[] {client} : new Channel[] {client, server}) {
            if (withRst) {
                resetChannel(channel);
            } else {
                channel.close();
            }
        }
    }

    /** Closes {@code channel} with RST instead of FIN (SO_LINGER 0). */
    static void resetChannel(Channel channel) {
        if (!channel.isOpen()) {
            return;
        }
        try {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
            // already closing: a plain close is all that is left
        }
        channel.close();
    }

    /** Handler on one channel: what it reads goes into {@code in}; {@code out} writes to it. */
    private static final class Side extends ChannelInboundHandlerAdapter {

        private final Pipe in;
        private final Pipe out;

        Side(Pipe in, Pipe out) {
            this.in = in;
            this.out = out;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf) {
                in.onRead((ByteBuf) msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            in.onSourceInactive();
            out.onDestinationInactive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            out.drain();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // typically "connection reset by peer"; channelInactive does the rest
            ctx.close();
        }
    }

    /**
     * One direction of a connection. Bytes read from the source are queued in a {@link ReleaseQueue} with the
     * direction's latency, and written to the destination when due, unless the proxy is paused or the destination is
     * not writable. The source is read only while less than {@link FaultProxy#MAX_PENDING_BYTES} are queued and the
     * destination is writable (or while bytes are dropped anyway), so memory stays bounded. The source closing is
     * queued like a byte: the destination is closed once everything before it was delivered.
     */
    static final class Pipe {

        private static final Object CLOSE = new Object();

        private final ProxyConnection connection;
        private final FaultProxy proxy;
        private final Direction direction;
        private final ReleaseQueue<Object> queue = new ReleaseQueue<>();
        private @Nullable Channel source;
        private @Nullable Channel destination;
        private long pendingBytes;
        private boolean finished; // the destination is closed or closing: nothing more is forwarded
        private boolean dropped; // a blackhole discarded bytes of this direction
        private boolean timerArmed;
        private long timerAt;

        Pipe(ProxyConnection connection, Direction direction) {
            this.connection = connection;
            this.proxy = connection.proxy;
            this.direction = direction;
        }

        void attach(Channel source, Channel destination) {
            this.source = source;
            this.destination = destination;
        }

        boolean dropped() {
            return dropped;
        }

        void onRead(ByteBuf data) {
            int bytes = data.readableBytes();
            if (finished || destination == null || bytes == 0) {
                data.release();
                return;
            }
            if (proxy.blackholed(direction)) {
                dropped = true;
                data.release();
                return;
            }
            if (connection.mustReset()) {
                data.release();
                connection.reset();
                return;
            }
            queue.offer(data, System.nanoTime(), proxy.sampleLatencyNanos(direction));
            addPending(bytes);
            drain();
        }

        void onSourceInactive() {
            if (finished) {
                return;
            }
            if (destination == null) { // never connected: the connection closes the other side itself
                finished = true;
                return;
            }
            queue.offer(CLOSE, System.nanoTime(), proxy.sampleLatencyNanos(direction));
            drain();
        }

        void onDestinationInactive() {
            abort();
        }

        /** Stops forwarding for good and releases what is queued. */
        void abort() {
            finished = true;
            discard();
        }

        void refresh(boolean releaseNow) {
            if (releaseNow) {
                queue.releaseAllNow(System.nanoTime());
            }
            drain();
        }

        /** Writes every due item while allowed, then arms the timer for the next one and updates auto-read. */
        void drain() {
            if (destination == null) {
                return;
            }
            if (finished) {
                discard();
                updateAutoRead();
                return;
            }
            boolean wrote = false;
            while (!proxy.paused() && destination.isWritable()) {
                Object item = queue.pollDue(System.nanoTime());
                if (item == null) {
                    break;
                }
                if (item == CLOSE) {
                    finished = true;
                    discard();
                    destination.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                    updateAutoRead();
                    return;
                }
                ByteBuf data = (ByteBuf) item;
                int bytes = data.readableBytes();
                addPending(-bytes);
                if (proxy.blackholed(direction)) {
                    dropped = true;
                    data.release();
                    continue;
                }
                if (connection.mustReset()) {
                    data.release();
                    connection.reset();
                    return;
                }
                destination.write(data, destination.voidPromise());
                proxy.addForwarded(bytes);
                wrote = true;
            }
            if (wrote) {
                destination.flush();
            }
            armTimer();
            updateAutoRead();
        }

        private void armTimer() {
            if (queue.isEmpty() || proxy.paused() || !destination.isWritable()) {
                return; // nothing to wait for, or resume()/writability will drain again
            }
            long at = queue.nextReleaseAt();
            if (timerArmed && timerAt - at <= 0) {
                return; // a timer fires no later than needed
            }
            timerArmed = true;
            timerAt = at;
            long delay = Math.max(0, at - System.nanoTime());
            destination.eventLoop().schedule(() -> {
                if (timerArmed && timerAt == at) {
                    timerArmed = false;
                }
                drain();
            }, delay, TimeUnit.NANOSECONDS);
        }

        private void updateAutoRead() {
            if (source == null || !source.isOpen()) {
                return;
            }
            boolean read = !finished
                    && (proxy.blackholed(direction)
                            || (pendingBytes < FaultProxy.MAX_PENDING_BYTES && destination.isWritable()));
            if (source.config().isAutoRead() != read) {
                source.config().setAutoRead(read);
            }
        }

        private void discard() {
            Object item;
            while ((item = queue.poll()) != null) {
                if (item != CLOSE) {
                    ReferenceCountUtil.release(item);
                }
            }
            addPending(-pendingBytes);
        }

        private void addPending(long bytes) {
            pendingBytes += bytes;
            proxy.addBuffered(bytes);
        }
    }
}
