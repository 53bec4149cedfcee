/* Prometheus metrics: counters, gauges and histograms with labels, in one
 * process-wide registry, rendered in the text exposition format (0.0.4).
 * Names carry the wb_ prefix and Prometheus' unit suffixes (_total,
 * _seconds, _bytes). Label values are passed in the order the label names were
 * declared; every call site passes exactly that many. Thread-safe. */
#ifndef WB_METRICS_H
#define WB_METRICS_H

typedef struct wb_metric wb_metric;

/* Declaring the same name twice returns the first metric (so libraries and
 * services can both declare what they use). label_names is comma-separated,
 * "" for none. */
wb_metric *wb_counter(const char *name, const char *help, const char *label_names);
wb_metric *wb_gauge(const char *name, const char *help, const char *label_names);
/* buckets: ascending upper bounds; +Inf is added. */
wb_metric *wb_histogram(const char *name, const char *help, const char *label_names,
                        const double *buckets, int bucket_count);

void wb_counter_add(wb_metric *m, double value, ...);
void wb_gauge_set(wb_metric *m, double value, ...);
void wb_gauge_add(wb_metric *m, double value, ...);
void wb_histogram_observe(wb_metric *m, double value, ...);

/* Current value (for histograms: the count), for tests and status output. */
double wb_metric_value(wb_metric *m, ...);

/* malloc'd text exposition of every metric; caller frees. */
char *wb_metrics_render(void);

void wb_counter_inc(wb_metric *m, ...);

/* Latency buckets in seconds, from 1 ms to 60 s. */
extern const double wb_latency_buckets[];
extern const int wb_latency_bucket_count;

#endif
