package dev.redlock.bench;

import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Several clients of one implementation, as several processes would contend: slot {@code i} locks through client
 * {@code i % clients} (so with {@code k · clients} slots each client has {@code k} workers, and worker {@code i}
 * belongs to client {@code i % clients}). The acquire's holder object carries its client, so the release goes back
 * through it.
 */
final class ClientsDriver implements LockDriver {

    private final LockDriver[] clients;

    private ClientsDriver(LockDriver[] clients) {
        this.clients = clients;
    }

    /** Starts {@code count} clients; closes the ones started when one fails. */
    static ClientsDriver start(int count, Supplier<LockDriver> client) {
        LockDriver[] clients = new LockDriver[count];
        try {
            for (int i = 0; i < count; i++) {
                clients[i] = client.get();
            }
        } catch (RuntimeException e) {
            for (LockDriver started : clients) {
                if (started != null) {
                    started.close();
                }
            }
            throw e;
        }
        return new ClientsDriver(clients);
    }

    /** The client of a worker. */
    static int clientOf(int worker, int clients) {
        return worker % clients;
    }

    private LockDriver of(Slot slot) {
        return clients[clientOf(slot.index, clients.length)];
    }

    @Override
    public void prepare(Slot slot) {
        of(slot).prepare(slot);
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        LockDriver client = of(slot);
        return client.acquire(slot).map(held -> new Held(client, held));
    }

    @Override
    public Mono<Void> release(Object held) {
        Held h = (Held) held;
        return h.client.release(h.value);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (LockDriver client : clients) {
            try {
                client.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** What a client's acquire emitted, with the client. */
    private static final class Held {
        final LockDriver client;
        final Object value;

        Held(LockDriver client, Object value) {
            this.client = client;
            this.value = value;
        }
    }
}
