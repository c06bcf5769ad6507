/*
 * loadgen: a closed-loop load client for the course's servers, in C.
 *
 * Why C: a load client written in Node tops out at about 35,000 requests/s
 * on the course's 2-core machine, whatever the server (it shares the cores
 * with it), so it cannot tell a 40k/s server from a 100k/s one. This one
 * spends a few microseconds per request: one thread, epoll, N connections,
 * each with exactly one request in flight (no pipelining, no think time),
 * as the Python seed's measurement did.
 *
 * The workload is the seed's mix: 50% GET, 25% PUT, 15% POST, 10% DELETE on
 * random keys from a key space (POST fails on an existing key, PUT and
 * DELETE on a missing one: those error replies are normal and counted).
 * With --dialect redis the same mix is sent as Redis commands (SET NX, SET
 * XX, DEL), so redis-server can be measured the same way.
 *
 *   cc -O2 -o loadgen loadgen.c
 *   ./loadgen --port 65432 --clients 20 --seconds 10 [--keys 1000] [--warmup 1]
 *             [--dialect native|redis] [--json]
 *
 * Output: requests, seconds, ops/s, latency percentiles (from send to the
 * complete reply, 1 us resolution up to 1 s), error replies.
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

#define BUF 65536
#define HIST_US 1000000 /* 1 us buckets up to 1 s; slower goes to the last */

typedef struct {
  int fd;
  char out[512];
  int out_len, out_sent;
  char in[BUF];
  int in_len;
  double sent_at;
} conn_t;

static const char *host = "127.0.0.1";
static int port = 65432, clients = 20, keys = 1000, redis = 0, json = 0;
static double seconds = 10, warmup = 1;
static uint64_t *hist;
static uint64_t done = 0, errors = 0;
static double max_us = 0;
static int measuring = 0;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static uint32_t next_random(void) { /* xorshift64 */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}

/* Appends one RESP bulk string. */
static int bulk(char *p, const char *s, int n) { return sprintf(p, "$%d\r\n%.*s\r\n", n, n, s); }

/* Builds the next request of the mix into c->out. */
static void next_request(conn_t *c) {
  char key[32], value[32];
  int kn = sprintf(key, "lg:%u", next_random() % (unsigned)keys);
  int vn = sprintf(value, "v%u", next_random());
  uint32_t dice = next_random() % 100;
  char *p = c->out;
  if (dice < 50) { /* GET */
    p += sprintf(p, "*2\r\n");
    p += bulk(p, "GET", 3);
    p += bulk(p, key, kn);
  } else if (dice < 75 || dice < 90) { /* PUT (25%) or POST (15%) */
    int put = dice < 75;
    p += sprintf(p, "*%d\r\n", redis ? 4 : 3);
    p += redis ? bulk(p, "SET", 3) : bulk(p, put ? "PUT" : "POST", put ? 3 : 4);
    p += bulk(p, key, kn);
    p += bulk(p, value, vn);
    if (redis) p += bulk(p, put ? "XX" : "NX", 2);
  } else { /* DELETE */
    p += sprintf(p, "*2\r\n");
    p += redis ? bulk(p, "DEL", 3) : bulk(p, "DELETE", 6);
    p += bulk(p, key, kn);
  }
  c->out_len = (int)(p - c->out);
  c->out_sent = 0;
}

/* Length of the first complete reply in buf, 0 if incomplete, -1 if malformed. */
static int reply_length(const char *buf, int len, int *is_error) {
  const char *eol = memchr(buf, '\n', len);
  if (eol == NULL) return 0;
  int line = (int)(eol - buf) + 1;
  *is_error = buf[0] == '-';
  /* RESP3 null (_) and an unset redis SET NX/XX reply ($-1) are one line too. */
  if (buf[0] == '+' || buf[0] == '-' || buf[0] == ':' || buf[0] == '_') return line;
  if (buf[0] == '$') {
    long n = strtol(buf + 1, NULL, 10);
    if (n < 0) return line;
    if (len < line + n + 2) return 0;
    return line + (int)n + 2;
  }
  return -1; /* arrays are not part of this workload */
}

static void send_some(conn_t *c) {
  while (c->out_sent < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);
    if (n < 0) {
      if (errno == EAGAIN) return;
      perror("write");
      exit(2);
    }
    c->out_sent += (int)n;
  }
}

static void start_request(conn_t *c) {
  next_request(c);
  c->sent_at = now();
  send_some(c);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--host")) host = v, i++;
    else if (!strcmp(a, "--port")) port = atoi(v), i++;
    else if (!strcmp(a, "--clients")) clients = atoi(v), i++;
    else if (!strcmp(a, "--seconds")) seconds = atof(v), i++;
    else if (!strcmp(a, "--warmup")) warmup = atof(v), i++;
    else if (!strcmp(a, "--keys")) keys = atoi(v), i++;
    else if (!strcmp(a, "--seed")) rng = strtoull(v, NULL, 10) | 1, i++;
    else if (!strcmp(a, "--dialect")) redis = !strcmp(v, "redis"), i++;
    else if (!strcmp(a, "--json")) json = 1;
    else {
      fprintf(stderr, "usage: loadgen [--host H] [--port P] [--clients N] [--seconds S] [--warmup S] "
                      "[--keys K] [--seed N] [--dialect native|redis] [--json]\n");
      return 2;
    }
  }
  if (clients < 1 || keys < 1 || seconds <= 0) {
    fprintf(stderr, "loadgen: --clients, --keys and --seconds must be positive\n");
    return 2;
  }
  hist = calloc(HIST_US + 1, sizeof *hist);
  conn_t *conns = calloc(clients, sizeof *conns);
  int ep = epoll_create1(0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
    return 2;
  }
  for (int i = 0; i < clients; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
      fprintf(stderr, "loadgen: cannot connect to %s:%d: %s\n", host, port, strerror(errno));
      return 2;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  for (int i = 0; i < clients; i++) start_request(&conns[i]);

  double t0 = now(), measure_from = t0 + warmup, end = measure_from + seconds;
  struct epoll_event events[256];
  for (;;) {
    double t = now();
    if (!measuring && t >= measure_from) measuring = 1, done = 0, errors = 0;
    if (t >= end) break;
    int n = epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < n; e++) {
      conn_t *c = events[e].data.ptr;
      ssize_t r = read(c->fd, c->in + c->in_len, BUF - c->in_len);
      if (r == 0) {
        fprintf(stderr, "loadgen: the server closed a connection\n");
        return 2;
      }
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        perror("read");
        return 2;
      }
      c->in_len += (int)r;
      int is_error = 0, len = reply_length(c->in, c->in_len, &is_error);
      if (len < 0) {
        fprintf(stderr, "loadgen: unexpected reply: %.40s\n", c->in);
        return 2;
      }
      if (len == 0) continue; /* the rest of the reply is on its way */
      memmove(c->in, c->in + len, c->in_len - len);
      c->in_len -= len;
      double done_at = now();
      if (measuring && c->sent_at >= measure_from) {
        double us = (done_at - c->sent_at) * 1e6;
        hist[us < HIST_US ? (int)us : HIST_US]++;
        if (us > max_us) max_us = us;
        done++;
        errors += is_error;
      }
      start_request(c);
    }
  }
  double elapsed = now() - measure_from;
  double pct[5] = {0.5, 0.9, 0.99, 0.999, 1.0}, at[5] = {0};
  uint64_t seen = 0;
  int p = 0;
  for (int b = 0; b <= HIST_US && p < 5; b++) {
    seen += hist[b];
    while (p < 5 && done > 0 && seen >= (uint64_t)(pct[p] * done + 0.5)) at[p++] = (b + 1) / 1000.0;
  }
  at[4] = max_us / 1000.0;
  if (json) {
    printf("{\"requests\":%llu,\"seconds\":%.2f,\"ops\":%.0f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
           "\"p999\":%.3f,\"max\":%.3f,\"errors\":%llu,\"clients\":%d}\n",
           (unsigned long long)done, elapsed, done / elapsed, at[0], at[1], at[2], at[3], at[4],
           (unsigned long long)errors, clients);
  } else {
    printf("%llu requests in %.2f s: %.0f ops/s; latency ms p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f "
           "max %.3f; %llu error replies (normal: POST on an existing key...)\n",
           (unsigned long long)done, elapsed, done / elapsed, at[0], at[1], at[2], at[3], at[4],
           (unsigned long long)errors);
  }
  return 0;
}
