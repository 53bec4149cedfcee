/* Graceful stop and liveness. The signal handler only sets a flag and writes
 * one byte to a pipe: everything else happens in the service's own loops. */
#include "wb/runloop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>

static atomic_bool stop_requested;
static int stop_pipe[2] = {-1, -1};
static atomic_llong last_beat_ms;

static void on_stop_signal(int sig) {
    (void)sig;
    int saved = errno;
    atomic_store(&stop_requested, true);
    if (stop_pipe[1] >= 0) {
        ssize_t n = write(stop_pipe[1], "x", 1);
        (void)n;
    }
    errno = saved;
}

void wb_runloop_init(void) {
    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        stop_pipe[0] = stop_pipe[1] = -1;
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    wb_heartbeat();
}

bool wb_stopping(void) { return atomic_load(&stop_requested); }

void wb_request_stop(void) { on_stop_signal(0); }

int wb_stop_fd(void) { return stop_pipe[0]; }

bool wb_sleep_ms(int ms) {
    if (wb_stopping()) return false;
    if (stop_pipe[0] < 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return !wb_stopping();
    }
    struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
    int64_t deadline = wb_monotonic_ms() + ms;
    for (;;) {
        int64_t left = deadline - wb_monotonic_ms();
        if (left <= 0) return true;
        int r = poll(&p, 1, (int)left);
        if (r > 0 || wb_stopping()) return false;
    }
}

void wb_heartbeat(void) { atomic_store(&last_beat_ms, wb_monotonic_ms()); }

int64_t wb_heartbeat_age_ms(void) { return wb_monotonic_ms() - atomic_load(&last_beat_ms); }

int64_t wb_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wb_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wb_format_time(int64_t wall_ms, char *buf, size_t size) {
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", base, (int)(wall_ms % 1000));
}
