/* Cell 10's native load generator: many Engine.IO v4 / Socket.IO v5 websocket clients in one epoll loop.
 *
 * Why it exists: on this 2-core box the server under test has one core and every load generator shares the other.
 * With Node generators (`ws`, or bench/node/raw_ws.js) the generators' core was the one that ran out first: ~700 us
 * of generator CPU per connect capped the measured connect rate near 1,300-1,500/s whatever the server cost, and
 * ~10 us per received frame slowed the broadcast's readers. This client does the same per socket in a few
 * microseconds, so the server's own cost decides what is measured.
 *
 * Per socket, the handshake a browser makes: TCP connect, `GET <path>` with `Upgrade: websocket` (no extension
 * offered; Sec-WebSocket-Accept checked), Engine.IO open `0{...}`, `40{"token":...}` in a masked text frame, the
 * Socket.IO CONNECT reply `40{...}`. Then: pings `2` answered `3`; `42["notification:broadcast",{"seq":N,
 * "sent_at":T,...` counted, order checked per socket, latency (receipt - sent_at, wall clock ms) sampled.
 *
 * Driven by lines on stdin, one answer (a JSON object) per line on stdout, like bench/node/loadgen.js:
 *   connect <ws-url> <tokens-file> <count> <concurrency> [<a.b.c>]
 *       tokens-file: one token per line, one socket each. a.b.c: a loopback /24 (127.b.c) whose SOURCE_HOSTS
 *       addresses the sockets are spread over; see "source addresses" below.
 *   reset <latency 0|1>
 *   wait <total> <timeout_ms> <samples 0|1>
 *   drop                                                   (every socket closed at once)
 *   exit
 * Build: gcc -O2 -o loadgen loadgen.c (bench/many_sockets.py does it).
 *
 * Source addresses: every socket to one server has the same destination, so with one source address the kernel
 * picks each connect's port by searching the ephemeral range (32768-60999 here) for one unused: ~14,000 even ports
 * first, then the odd ones. With 10,000+ sockets (and the previous run's TIME_WAITs) that search cost ~1 ms of
 * kernel CPU per connect on the generators' core: the bound on the connect rate every session measured, Node
 * clients included. Spread over SOURCE_HOSTS addresses of a fresh 127.b.c.0/24 per run (bound before connect,
 * IP_BIND_ADDRESS_NO_PORT), each address holds a few hundred ports and the search ends at once.
 *
 * Polling: while a command is under way the loop asks epoll without waiting, and pauses 200 us when nothing is
 * ready, instead of sleeping in epoll_wait. On loopback a write to a socket whose reader sleeps in epoll_wait pays
 * that reader's wake-up on the writer's core: a cost clients on other machines never put on a server, which made
 * the server's CPU per broadcast delivery ~25% higher (16.5-18.1 us against 12.9-14.0 us). Receipts are stamped up
 * to 200 us late, which counts against the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* RFC 6455's own example key: the server's answer must carry its accept value (checked on every socket). */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define MAX_ATTEMPTS 5
#define SOURCE_HOSTS 200

static const struct timespec POLL_PAUSE = {0, 200 * 1000}; /* 200 us */
#define STDIN_TAG UINT64_MAX

enum state { CONNECTING, UPGRADING, OPENING, JOINING, OPEN, CLOSED };

struct conn {
    int fd;
    enum state state;
    int attempt;
    int token;
    int64_t last_seq;
    double retry_at; /* ms; > 0 while waiting to try again */
    char *carry;     /* bytes of an unfinished head or frame */
    size_t carry_len;
    int peer_closed; /* a close frame arrived */
};

static struct conn *conns;
static size_t nconns, cap_conns;
static char **tokens;
static size_t ntokens;
static int epfd;
static struct sockaddr_in target;
static struct sockaddr_in source; /* sin_addr.s_addr == 0: the kernel's choice */
static char request[512];
static size_t request_len;

/* the connect command in progress */
static int connecting;
static size_t next_token, in_flight, concurrency, retries, retry_pending;
static double connect_started;
static char fatal[256];

/* counters since the last reset */
static long received, out_of_order, closed_open;
static int latency_on;
static double *lat;
static size_t nlat, cap_lat;
static double first_at, last_at;

/* the wait command in progress */
static int waiting;
static long wait_total, wait_samples;
static double wait_deadline;

static const char PREFIX[] = "42[\"notification:broadcast\",{\"seq\":";
static const char SENT[] = ",\"sent_at\":";

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void send_frame(struct conn *c, const char *text, size_t n) {
    /* A masked client text frame; the mask is fixed (the server unmasks whatever it is). */
    static const unsigned char mask[4] = {0x5a, 0x3c, 0xa5, 0xc3};
    unsigned char buf[4096];
    size_t h = 0;
    if (n + 8 > sizeof buf) return;
    buf[h++] = 0x81;
    if (n < 126) {
        buf[h++] = 0x80 | (unsigned char)n;
    } else {
        buf[h++] = 0x80 | 126;
        buf[h++] = (unsigned char)(n >> 8);
        buf[h++] = (unsigned char)n;
    }
    memcpy(buf + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++) buf[h + i] = (unsigned char)text[i] ^ mask[i & 3];
    /* Small frames on a socket with an empty send buffer: written whole, or the socket is broken and its next read
     * says so. */
    (void)!write(c->fd, buf, h + n);
}

static void start_socket(struct conn *c);

static void finish_handshake_failure(struct conn *c, const char *why) {
    close(c->fd);
    c->fd = -1;
    free(c->carry);
    c->carry = NULL;
    c->carry_len = 0;
    if (c->attempt >= MAX_ATTEMPTS) {
        snprintf(fatal, sizeof fatal, "socket %d: %s after %d attempts", c->token, why, c->attempt);
        c->state = CLOSED;
        in_flight--;
        return;
    }
    retries++;
    retry_pending++;
    c->retry_at = now_ms() + 50.0 * c->attempt; /* a handshake reset under load (listen backlog full) */
    c->state = CONNECTING;
}

static void on_open(struct conn *c) {
    c->state = OPEN;
    in_flight--;
}

static void on_text(struct conn *c, const char *p, size_t n) {
    if (n >= 2 && p[0] == '4' && p[1] == '2') {
        double t = now_ms();
        received++;
        if (first_at == 0) first_at = t;
        last_at = t;
        size_t plen = sizeof PREFIX - 1;
        if (n > plen && memcmp(p, PREFIX, plen) == 0) {
            int64_t seq = 0;
            size_t i = plen;
            while (i < n && p[i] >= '0' && p[i] <= '9') seq = seq * 10 + (p[i++] - '0');
            if (seq != c->last_seq + 1) out_of_order++;
            c->last_seq = seq;
            if (latency_on) {
                const char *s = memmem(p + i, n - i, SENT, sizeof SENT - 1);
                if (s) {
                    char num[32];
                    size_t k = 0;
                    s += sizeof SENT - 1;
                    while (s < p + n && k < sizeof num - 1 && ((*s >= '0' && *s <= '9') || *s == '.')) num[k++] = *s++;
                    num[k] = 0;
                    if (nlat == cap_lat) {
                        cap_lat = cap_lat ? cap_lat * 2 : 1 << 16;
                        lat = realloc(lat, cap_lat * sizeof *lat);
                        if (!lat) die("realloc");
                    }
                    lat[nlat++] = t - strtod(num, NULL);
                }
            }
        }
    } else if (n == 1 && p[0] == '2') {
        send_frame(c, "3", 1);
    } else if (n >= 1 && p[0] == '0' && c->state == OPENING) {
        char msg[3072];
        int m = snprintf(msg, sizeof msg, "40{\"token\":\"%s\"}", tokens[c->token]);
        if (m > 0 && (size_t)m < sizeof msg) send_frame(c, msg, (size_t)m);
        c->state = JOINING;
    } else if (n >= 2 && p[0] == '4' && p[1] == '0' && c->state == JOINING) {
        on_open(c);
    } else if (n >= 2 && p[0] == '4' && p[1] == '4') {
        snprintf(fatal, sizeof fatal, "socket %d: connect_error %.*s", c->token, (int)(n < 160 ? n : 160), p);
    }
}

/* Consumes whole heads and frames from buf; returns how many bytes were used. */
static size_t consume(struct conn *c, const char *buf, size_t len) {
    size_t i = 0;
    if (c->state == UPGRADING) {
        const char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (!end) return 0;
        size_t head = (size_t)(end - buf) + 4;
        if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0 || !memmem(buf, head, WS_ACCEPT, sizeof WS_ACCEPT - 1)) {
            finish_handshake_failure(c, "upgrade refused");
            return len;
        }
        c->state = OPENING;
        i = head;
    }
    while (len - i >= 2 && c->fd >= 0) {
        const unsigned char *f = (const unsigned char *)buf + i;
        unsigned op = f[0] & 0x0f;
        uint64_t n = f[1] & 0x7f;
        size_t at = 2;
        if (n == 126) {
            if (len - i < 4) break;
            n = ((uint64_t)f[2] << 8) | f[3];
            at = 4;
        } else if (n == 127) {
            if (len - i < 10) break;
            n = 0;
            for (int k = 0; k < 8; k++) n = (n << 8) | f[2 + k];
            at = 10;
        }
        if (len - i < at + n) break;
        const char *payload = buf + i + at;
        i += at + n;
        if (op == 0x1 || op == 0x2) {
            on_text(c, payload, n);
        } else if (op == 0x8) {
            c->peer_closed = 1;
            break;
        }
    }
    return i;
}

static void on_eof(struct conn *c, const char *why) {
    if (c->state == OPEN) {
        closed_open++;
        c->state = CLOSED;
        close(c->fd);
        c->fd = -1;
    } else {
        finish_handshake_failure(c, why);
    }
}

static void on_readable(struct conn *c) {
    static char buf[1 << 16];
    for (;;) {
        size_t have = c->carry_len;
        if (have) memcpy(buf, c->carry, have);
        ssize_t r = read(c->fd, buf + have, sizeof buf - have);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (r <= 0) {
            on_eof(c, r == 0 ? "closed during handshake" : strerror(errno));
            return;
        }
        size_t len = have + (size_t)r;
        size_t used = consume(c, buf, len);
        if (c->fd < 0) return; /* the handshake failed: closed, tried again later or given up */
        if (c->peer_closed) {
            on_eof(c, "close frame during handshake");
            return;
        }
        free(c->carry);
        c->carry = NULL;
        c->carry_len = len - used;
        if (c->carry_len) {
            c->carry = malloc(c->carry_len);
            if (!c->carry) die("malloc");
            memcpy(c->carry, buf + used, c->carry_len);
        }
        if ((size_t)r < sizeof buf - have) return;
    }
}

static void start_socket(struct conn *c) {
    c->attempt++;
    c->retry_at = 0;
    c->peer_closed = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = CONNECTING;
    if (source.sin_addr.s_addr) {
        struct sockaddr_in from = source;
        from.sin_addr.s_addr = htonl(ntohl(source.sin_addr.s_addr) + 1 + (uint32_t)(c - conns) % SOURCE_HOSTS);
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&from, sizeof from) < 0) die("bind");
    }
    if (connect(c->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
        finish_handshake_failure(c, strerror(errno));
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u64 = (uint64_t)(c - conns)};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl add");
}

static void on_writable(struct conn *c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        finish_handshake_failure(c, strerror(err));
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)(c - conns)};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    if (write(c->fd, request, request_len) != (ssize_t)request_len) {
        finish_handshake_failure(c, "request not written");
        return;
    }
    c->state = UPGRADING;
}

static void launch_more(void) {
    double t = now_ms();
    /* sockets waiting to try again first, then new ones */
    for (size_t k = 0; retry_pending && k < nconns; k++) {
        struct conn *c = &conns[k];
        if (c->state == CONNECTING && c->fd < 0 && c->retry_at > 0 && c->retry_at <= t) {
            retry_pending--;
            start_socket(c);
        }
    }
    while (in_flight < concurrency && next_token < ntokens) {
        if (nconns == cap_conns) {
            cap_conns = cap_conns ? cap_conns * 2 : 1024;
            conns = realloc(conns, cap_conns * sizeof *conns);
            if (!conns) die("realloc");
        }
        struct conn *c = &conns[nconns++];
        memset(c, 0, sizeof *c);
        c->fd = -1;
        c->token = (int)next_token++;
        c->last_seq = -1;
        in_flight++;
        start_socket(c);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)(p / 100.0 * n);
    return sorted[i < n ? i : n - 1];
}

static void answer_wait(void) {
    waiting = 0;
    printf("{\"ok\":true,\"received\":%ld,\"out_of_order\":%ld,\"closed\":%ld,\"first_at\":%.3f,\"last_at\":%.3f",
           received, out_of_order, closed_open, first_at, last_at);
    if (latency_on && nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_double);
        printf(",\"lat_p50\":%.3f,\"lat_p99\":%.3f,\"lat_n\":%zu", percentile(lat, nlat, 50),
               percentile(lat, nlat, 99), nlat);
        if (wait_samples) {
            printf(",\"lat\":[");
            for (size_t i = 0; i < nlat; i++) printf(i ? ",%.1f" : "%.1f", lat[i]);
            printf("]");
        }
    }
    printf("}\n");
    fflush(stdout);
}

static void answer_connect(void) {
    connecting = 0;
    if (fatal[0]) {
        printf("{\"ok\":false,\"error\":\"%s\"}\n", fatal);
        fatal[0] = 0;
    } else {
        size_t open_now = 0;
        for (size_t k = 0; k < nconns; k++) open_now += conns[k].state == OPEN;
        printf("{\"ok\":true,\"connected\":%zu,\"ms\":%.3f,\"retries\":%zu,\"extensions\":\"\"}\n", open_now,
               now_ms() - connect_started, retries);
    }
    fflush(stdout);
}

static void load_tokens(const char *path, size_t count) {
    FILE *f = fopen(path, "r");
    if (!f) die(path);
    for (size_t k = 0; k < ntokens; k++) free(tokens[k]);
    free(tokens);
    tokens = calloc(count, sizeof *tokens);
    ntokens = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (ntokens < count && (n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n) tokens[ntokens++] = strdup(line);
    }
    free(line);
    fclose(f);
}

static int parse_url(const char *url) {
    /* ws://host:port/path?query */
    char host[64];
    int port;
    const char *rest = strncmp(url, "ws://", 5) == 0 ? url + 5 : NULL;
    if (!rest) return -1;
    const char *colon = strchr(rest, ':'), *slash = strchr(rest, '/');
    if (!colon || !slash || colon > slash || (size_t)(colon - rest) >= sizeof host) return -1;
    memcpy(host, rest, (size_t)(colon - rest));
    host[colon - rest] = 0;
    port = atoi(colon + 1);
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1) return -1;
    int m = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     slash, host, port);
    if (m <= 0 || (size_t)m >= sizeof request) return -1;
    request_len = (size_t)m;
    return 0;
}

static void command(char *line) {
    char url[400], path[400], src[64] = "";
    size_t count, conc;
    long total, timeout;
    int flag;
    if (sscanf(line, "connect %399s %399s %zu %zu %59s", url, path, &count, &conc, src) >= 4) {
        memset(&source, 0, sizeof source);
        source.sin_family = AF_INET;
        if (src[0]) strcat(src, ".0");
        if (parse_url(url) < 0 || (src[0] && inet_pton(AF_INET, src, &source.sin_addr) != 1)) {
            printf("{\"ok\":false,\"error\":\"bad url or source prefix\"}\n");
            fflush(stdout);
            return;
        }
        load_tokens(path, count);
        next_token = 0;
        retries = retry_pending = 0;
        concurrency = conc ? conc : 100;
        connecting = 1;
        connect_started = now_ms();
        launch_more();
    } else if (sscanf(line, "reset %d", &flag) == 1) {
        received = out_of_order = closed_open = 0;
        nlat = 0;
        first_at = last_at = 0;
        latency_on = flag;
        for (size_t k = 0; k < nconns; k++) conns[k].last_seq = -1;
        printf("{\"ok\":true}\n");
        fflush(stdout);
    } else if (sscanf(line, "wait %ld %ld %d", &total, &timeout, &flag) == 3) {
        waiting = 1;
        wait_total = total;
        wait_samples = flag;
        wait_deadline = now_ms() + (double)timeout;
        if (received >= wait_total) answer_wait();
    } else if (strncmp(line, "drop", 4) == 0) {
        double t = now_ms();
        for (size_t k = 0; k < nconns; k++) {
            if (conns[k].fd >= 0) close(conns[k].fd);
            free(conns[k].carry);
        }
        nconns = 0;
        printf("{\"ok\":true,\"dropped_at\":%.3f}\n", t);
        fflush(stdout);
    } else if (strncmp(line, "exit", 4) == 0) {
        printf("{\"ok\":true}\n");
        fflush(stdout);
        exit(0);
    } else {
        printf("{\"ok\":false,\"error\":\"unknown command\"}\n");
        fflush(stdout);
    }
}

static void on_stdin(void) {
    static char buf[4096];
    static size_t have;
    ssize_t r = read(0, buf + have, sizeof buf - 1 - have);
    if (r <= 0) exit(0);
    have += (size_t)r;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
        *nl = 0;
        command(start);
        start = nl + 1;
    }
    have -= (size_t)(start - buf);
    memmove(buf, start, have);
}

int main(void) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STDIN_TAG};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll_ctl stdin");
    struct epoll_event events[512];
    for (;;) {
        /* While connecting or waiting: poll without sleeping in the kernel (see "Polling" above). */
        int polling = connecting || waiting;
        int n = epoll_wait(epfd, events, 512, polling ? 0 : 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        if (polling && n <= 0) nanosleep(&POLL_PAUSE, NULL);
        for (int k = 0; k < n; k++) {
            if (events[k].data.u64 == STDIN_TAG) {
                on_stdin();
                continue;
            }
            size_t idx = (size_t)events[k].data.u64;
            if (idx >= nconns) continue; /* a socket dropped in this same batch */
            struct conn *c = &conns[idx];
            if (c->fd < 0) continue;
            if (c->state == CONNECTING) {
                if (events[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(c);
            } else if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
                on_readable(c);
            }
        }
        if (connecting) {
            launch_more();
            if (fatal[0] || (in_flight == 0 && next_token >= ntokens)) answer_connect();
        }
        if (waiting && (received >= wait_total || now_ms() >= wait_deadline)) answer_wait();
    }
}
