/* Graceful stop: SIGTERM wakes sleepers at once and the process exits 0. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "wb/runloop.h"

TEST(sleep_runs_its_time_without_signal) {
    int64_t start = wb_monotonic_ms();
    CHECK(wb_sleep_ms(50));
    CHECK(wb_monotonic_ms() - start >= 50);
}

TEST(sigterm_stops_a_worker_loop_with_exit_0) {
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        wb_runloop_init();
        CHECK(write(ready[1], "r", 1) == 1);
        int turns = 0;
        while (!wb_stopping()) {
            wb_heartbeat();
            wb_sleep_ms(10000); /* a long sleep that the signal must cut short */
            turns++;
        }
        _exit(turns == 1 ? 0 : 3);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    usleep(50000);
    int64_t start = wb_monotonic_ms();
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    CHECK(wb_monotonic_ms() - start < 5000);
}

TEST(heartbeat_age_grows) {
    wb_heartbeat();
    usleep(30000);
    CHECK(wb_heartbeat_age_ms() >= 30);
    wb_heartbeat();
    CHECK(wb_heartbeat_age_ms() < 30);
}

TEST(time_format) {
    char buf[40];
    wb_format_time(1795572000123LL, buf, sizeof buf);
    CHECK_STR(buf, "2026-11-25T02:00:00.123Z");
}

TEST(request_stop_from_code) {
    wb_runloop_init();
    CHECK(!wb_stopping());
    wb_request_stop();
    CHECK(wb_stopping());
    CHECK(!wb_sleep_ms(1000));
}

int main(void) {
    RUN(sleep_runs_its_time_without_signal);
    RUN(sigterm_stops_a_worker_loop_with_exit_0);
    RUN(heartbeat_age_grows);
    RUN(time_format);
    RUN(request_stop_from_code);
    TEST_EXIT();
}
