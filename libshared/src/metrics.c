/* A small Prometheus registry. Series are found by a linear walk: a service
 * has tens of metrics with at most thousands of series, and /metrics is read
 * every few seconds, so simplicity beats a hash table here. */
#include "wb/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 8

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

typedef struct series {
    struct series *next;
    char *values[MAX_LABELS];
    double value;          /* counter, gauge; histogram: sum */
    unsigned long long count;
    unsigned long long *bucket_counts;
} series;

struct wb_metric {
    struct wb_metric *next;
    metric_kind kind;
    char *name, *help;
    int label_count;
    char *labels[MAX_LABELS];
    double *buckets;
    int bucket_count;
    series *series;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static wb_metric *metrics_head, **metrics_tail = &metrics_head;

const double wb_latency_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5,   1,     2.5,  5,     10,   30,  60};
const int wb_latency_bucket_count = sizeof wb_latency_buckets / sizeof wb_latency_buckets[0];

static int split_labels(const char *names, char **out) {
    int n = 0;
    const char *p = names;
    while (p && *p && n < MAX_LABELS) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        out[n++] = strndup(p, len);
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

static wb_metric *declare(metric_kind kind, const char *name, const char *help,
                          const char *label_names, const double *buckets, int bucket_count) {
    pthread_mutex_lock(&lock);
    for (wb_metric *m = metrics_head; m; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            pthread_mutex_unlock(&lock);
            return m;
        }
    }
    wb_metric *m = calloc(1, sizeof *m);
    m->kind = kind;
    m->name = strdup(name);
    m->help = strdup(help);
    m->label_count = split_labels(label_names, m->labels);
    if (kind == KIND_HISTOGRAM) {
        m->buckets = malloc(sizeof(double) * (size_t)bucket_count);
        memcpy(m->buckets, buckets, sizeof(double) * (size_t)bucket_count);
        m->bucket_count = bucket_count;
    }
    *metrics_tail = m;
    metrics_tail = &m->next;
    pthread_mutex_unlock(&lock);
    return m;
}

wb_metric *wb_counter(const char *name, const char *help, const char *label_names) {
    return declare(KIND_COUNTER, name, help, label_names, NULL, 0);
}

wb_metric *wb_gauge(const char *name, const char *help, const char *label_names) {
    return declare(KIND_GAUGE, name, help, label_names, NULL, 0);
}

wb_metric *wb_histogram(const char *name, const char *help, const char *label_names,
                        const double *buckets, int bucket_count) {
    return declare(KIND_HISTOGRAM, name, help, label_names, buckets, bucket_count);
}

/* Finds or creates the series for the label values in ap. Caller holds lock. */
static series *find_series(wb_metric *m, va_list ap) {
    const char *values[MAX_LABELS];
    for (int i = 0; i < m->label_count; i++) {
        values[i] = va_arg(ap, const char *);
        if (!values[i]) values[i] = "";
    }
    for (series *s = m->series; s; s = s->next) {
        int i = 0;
        while (i < m->label_count && strcmp(s->values[i], values[i]) == 0) i++;
        if (i == m->label_count) return s;
    }
    series *s = calloc(1, sizeof *s);
    for (int i = 0; i < m->label_count; i++) s->values[i] = strdup(values[i]);
    if (m->kind == KIND_HISTOGRAM)
        s->bucket_counts = calloc((size_t)m->bucket_count, sizeof *s->bucket_counts);
    s->next = m->series;
    m->series = s;
    return s;
}

typedef enum { OP_ADD, OP_SET, OP_OBSERVE } op_kind;

static void apply(wb_metric *m, op_kind op, double value, va_list ap) {
    if (!m) return;
    pthread_mutex_lock(&lock);
    series *s = find_series(m, ap);
    switch (op) {
    case OP_ADD: s->value += value; break;
    case OP_SET: s->value = value; break;
    case OP_OBSERVE:
        s->value += value;
        s->count++;
        for (int i = 0; i < m->bucket_count; i++)
            if (value <= m->buckets[i]) s->bucket_counts[i]++;
        break;
    }
    pthread_mutex_unlock(&lock);
}

#define FORWARD(m, op, value)                                                  \
    do {                                                                       \
        va_list ap;                                                            \
        va_start(ap, value);                                                   \
        apply(m, op, value, ap);                                               \
        va_end(ap);                                                            \
    } while (0)

void wb_counter_add(wb_metric *m, double value, ...) {
    if (value < 0) return; /* counters only go up */
    FORWARD(m, OP_ADD, value);
}
void wb_gauge_set(wb_metric *m, double value, ...) { FORWARD(m, OP_SET, value); }
void wb_gauge_add(wb_metric *m, double value, ...) { FORWARD(m, OP_ADD, value); }
void wb_histogram_observe(wb_metric *m, double value, ...) { FORWARD(m, OP_OBSERVE, value); }

void wb_counter_inc(wb_metric *m, ...) {
    va_list ap;
    va_start(ap, m);
    apply(m, OP_ADD, 1.0, ap);
    va_end(ap);
}

double wb_metric_value(wb_metric *m, ...) {
    va_list ap;
    va_start(ap, m);
    pthread_mutex_lock(&lock);
    series *s = find_series(m, ap);
    double v = m->kind == KIND_HISTOGRAM ? (double)s->count : s->value;
    pthread_mutex_unlock(&lock);
    va_end(ap);
    return v;
}

/* ---- rendering ---- */

typedef struct {
    char *buf;
    size_t len, size;
} text;

static void append(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->size - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->size = t->size * 2 + (size_t)n + 1;
        t->buf = realloc(t->buf, t->size);
    }
}

/* Label values escape backslash, quote and newline; HELP escapes backslash and newline. */
static void append_escaped(text *t, const char *s, bool quotes) {
    for (; *s; s++) {
        if (*s == '\\') append(t, "\\\\");
        else if (*s == '\n') append(t, "\\n");
        else if (*s == '"' && quotes) append(t, "\\\"");
        else append(t, "%c", *s);
    }
}

static void append_labels(text *t, const wb_metric *m, const series *s, const char *le) {
    if (m->label_count == 0 && !le) return;
    append(t, "{");
    for (int i = 0; i < m->label_count; i++) {
        append(t, "%s%s=\"", i ? "," : "", m->labels[i]);
        append_escaped(t, s->values[i], true);
        append(t, "\"");
    }
    if (le) append(t, "%sle=\"%s\"", m->label_count ? "," : "", le);
    append(t, "}");
}

static void append_number(text *t, double v) {
    if (isinf(v)) append(t, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v)) append(t, "NaN");
    else append(t, "%.17g", v);
}

static void render_histogram(text *t, const wb_metric *m, const series *s) {
    char le[64];
    for (int i = 0; i < m->bucket_count; i++) {
        snprintf(le, sizeof le, "%g", m->buckets[i]);
        append(t, "%s_bucket", m->name);
        append_labels(t, m, s, le);
        append(t, " %llu\n", s->bucket_counts[i]);
    }
    append(t, "%s_bucket", m->name);
    append_labels(t, m, s, "+Inf");
    append(t, " %llu\n%s_sum", s->count, m->name);
    append_labels(t, m, s, NULL);
    append(t, " ");
    append_number(t, s->value);
    append(t, "\n%s_count", m->name);
    append_labels(t, m, s, NULL);
    append(t, " %llu\n", s->count);
}

char *wb_metrics_render(void) {
    static const char *types[] = {"counter", "gauge", "histogram"};
    text t = {malloc(4096), 0, 4096};
    t.buf[0] = 0;
    pthread_mutex_lock(&lock);
    for (wb_metric *m = metrics_head; m; m = m->next) {
        append(&t, "# HELP %s ", m->name);
        append_escaped(&t, m->help, false);
        append(&t, "\n# TYPE %s %s\n", m->name, types[m->kind]);
        for (series *s = m->series; s; s = s->next) {
            if (m->kind == KIND_HISTOGRAM) {
                render_histogram(&t, m, s);
                continue;
            }
            append(&t, "%s", m->name);
            append_labels(&t, m, s, NULL);
            append(&t, " ");
            append_number(&t, s->value);
            append(&t, "\n");
        }
    }
    pthread_mutex_unlock(&lock);
    return t.buf;
}
