/* An event's occurred_at as milliseconds (see occurred.h). By hand: this
 * runs for every event, and strptime() + timegm() cost more than the rest of
 * the decoding. */
#include "occurred.h"

#include <string.h>

int64_t sp_occurred_ms(const char *t) {
    if (!t) return 0;
    int f[6], pos[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
    size_t n = strlen(t);
    if (n < 20) return 0;
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int k = 0; k < len[i]; k++) {
            char c = t[pos[i] + k];
            if (c < '0' || c > '9') return 0;
            f[i] = f[i] * 10 + (c - '0');
        }
    }
    /* days from civil (Howard Hinnant's algorithm) */
    int y = f[0] - (f[1] <= 2), m = f[1];
    int era = y / 400, yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + f[2] - 1;
    int64_t days = (int64_t)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    int64_t ms = ((days * 24 + f[3]) * 60 + f[4]) * 60000 + (int64_t)f[5] * 1000;
    const char *z = t + 19;
    if (*z == '.') {
        int scale = 100;
        for (z++; *z >= '0' && *z <= '9'; z++, scale /= 10) ms += (*z - '0') * scale;
    }
    if (*z == '+' || *z == '-') {
        if (strlen(z) < 6) return 0;
        int off = ((z[1] - '0') * 10 + (z[2] - '0')) * 60 + (z[4] - '0') * 10 + (z[5] - '0');
        ms += (*z == '+' ? -1 : 1) * (int64_t)off * 60000;
    }
    return ms;
}

