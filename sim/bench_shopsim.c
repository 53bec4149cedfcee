/* Keep-alive HTTP/1.1 load generator for shopsim: N threads, each with one
 * connection, send the same request for D seconds and count replies.
 * usage: bench_shopsim HOST PORT PATH [threads=4] [seconds=5] [METHOD] [BODY] [HEADER...]
 * Prints requests per second and the share of non-2xx answers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const char *host;
  int port;
  char *request;
  size_t request_len;
  double seconds;
  long ok, bad, errors;
} worker_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads one reply (headers + Content-Length body); returns its status or -1. */
static int read_reply(int fd, char *buf, size_t cap) {
  size_t got = 0;
  char *end = NULL;
  while (!(end = memmem(buf, got, "\r\n\r\n", 4))) {
    ssize_t n = read(fd, buf + got, cap - got - 1);
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  buf[got] = '\0';
  int status = atoi(buf + 9);
  char *cl = strcasestr(buf, "Content-Length:");
  size_t body = cl ? (size_t)atol(cl + 15) : 0;
  size_t have = got - (size_t)(end + 4 - buf);
  while (have < body) {
    ssize_t n = read(fd, buf, cap);
    if (n <= 0) return -1;
    have += (size_t)n;
  }
  return status;
}

static void *run(void *arg) {
  worker_t *w = arg;
  char *buf = malloc(1 << 20);
  int fd = connect_to(w->host, w->port);
  double stop = now_s() + w->seconds;
  while (fd >= 0 && now_s() < stop) {
    if (write(fd, w->request, w->request_len) != (ssize_t)w->request_len) break;
    int status = read_reply(fd, buf, 1 << 20);
    if (status < 0) {
      w->errors++;
      close(fd);
      fd = connect_to(w->host, w->port);
      continue;
    }
    if (status >= 200 && status < 300) w->ok++;
    else w->bad++;
  }
  if (fd >= 0) close(fd);
  free(buf);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s HOST PORT PATH [threads] [seconds] [METHOD] [BODY] [HEADER...]\n", argv[0]);
    return 2;
  }
  int threads = argc > 4 ? atoi(argv[4]) : 4;
  double seconds = argc > 5 ? atof(argv[5]) : 5;
  const char *method = argc > 6 ? argv[6] : "GET";
  const char *body = argc > 7 ? argv[7] : "";
  char headers[4096] = "";
  for (int i = 8; i < argc; i++) {
    strncat(headers, argv[i], sizeof headers - strlen(headers) - 3);
    strcat(headers, "\r\n");
  }
  char *req = NULL;
  int len = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n%s",
                     method, argv[3], argv[1], argv[2], strlen(body), headers, body);
  if (len < 0) return 1;
  worker_t *ws = calloc((size_t)threads, sizeof *ws);
  pthread_t *ts = calloc((size_t)threads, sizeof *ts);
  double start = now_s();
  for (int i = 0; i < threads; i++) {
    ws[i] = (worker_t){.host = argv[1], .port = atoi(argv[2]), .request = req, .request_len = (size_t)len, .seconds = seconds};
    pthread_create(&ts[i], NULL, run, &ws[i]);
  }
  long ok = 0, bad = 0, errors = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(ts[i], NULL);
    ok += ws[i].ok;
    bad += ws[i].bad;
    errors += ws[i].errors;
  }
  double elapsed = now_s() - start;
  printf("{\"requests\":%ld,\"ok\":%ld,\"non_2xx\":%ld,\"errors\":%ld,\"seconds\":%.2f,\"rps\":%.0f}\n", ok + bad, ok, bad,
         errors, elapsed, (double)(ok + bad) / elapsed);
  free(req);
  free(ws);
  free(ts);
  return 0;
}
