/* Levels in an open-addressing hash table keyed by warehouse and article. A
 * location's sum looks up each of its (few) warehouses directly. */
#include "levels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct level {
    char *warehouse, *article; /* NULL: empty slot; article = goods_owner/sku */
    uint64_t hash;             /* compared first: articles share long prefixes */
    int64_t on_hand, reserved, version;
    int32_t partition;
    bool dirty;
    int64_t occurred_ms; /* the event's occurred_at; 0 when loaded from a checkpoint */
} level;

struct sp_levels {
    level *slots;
    size_t cap, count;
};

static uint64_t hash(const char *a, const char *b) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *a; a++) h = (h ^ (unsigned char)*a) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (; *b; b++) h = (h ^ (unsigned char)*b) * 1099511628211ULL;
    h ^= h >> 33; /* MurmurHash3's finaliser: the mask keeps only low bits */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

sp_levels *sp_levels_new(void) {
    sp_levels *l = calloc(1, sizeof *l);
    l->cap = 1024;
    l->slots = calloc(l->cap, sizeof *l->slots);
    return l;
}

void sp_levels_free(sp_levels *l) {
    if (!l) return;
    for (size_t i = 0; i < l->cap; i++) {
        free(l->slots[i].warehouse);
        free(l->slots[i].article);
    }
    free(l->slots);
    free(l);
}

static level *find_slot_h(level *slots, size_t cap, const char *wh, const char *article, uint64_t h) {
    size_t i = h & (cap - 1);
    while (slots[i].warehouse && (slots[i].hash != h || strcmp(slots[i].article, article) != 0 ||
                                  strcmp(slots[i].warehouse, wh) != 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static level *find_slot(level *slots, size_t cap, const char *wh, const char *article) {
    return find_slot_h(slots, cap, wh, article, hash(wh, article));
}

static void grow(sp_levels *l) {
    size_t cap = l->cap * 2;
    level *slots = calloc(cap, sizeof *slots);
    for (size_t i = 0; i < l->cap; i++)
        if (l->slots[i].warehouse)
            *find_slot_h(slots, cap, l->slots[i].warehouse, l->slots[i].article, l->slots[i].hash) = l->slots[i];
    free(l->slots);
    l->slots = slots;
    l->cap = cap;
}

static level *lookup(const sp_levels *l, const char *wh, const char *article) {
    level *s = find_slot(l->slots, l->cap, wh, article);
    return s->warehouse ? s : NULL;
}

static level *insert(sp_levels *l, const char *wh, const char *article) {
    if ((l->count + 1) * 4 > l->cap * 3) grow(l);
    level *s = find_slot(l->slots, l->cap, wh, article);
    if (!s->warehouse) {
        s->warehouse = strdup(wh);
        s->article = strdup(article);
        s->hash = hash(wh, article);
        s->version = -1;
        l->count++;
    }
    return s;
}

sp_level_result sp_levels_apply(sp_levels *l, const char *warehouse, const char *article,
                                int64_t on_hand, int64_t reserved, int64_t version,
                                int32_t partition) {
    return sp_levels_apply_at(l, warehouse, article, on_hand, reserved, version, partition, 0);
}

sp_level_result sp_levels_apply_at(sp_levels *l, const char *warehouse, const char *article,
                                   int64_t on_hand, int64_t reserved, int64_t version,
                                   int32_t partition, int64_t occurred_ms) {
    level *s = insert(l, warehouse, article);
    if (version < s->version) return SP_LEVEL_STALE;
    if (version == s->version) return SP_LEVEL_SAME;
    s->occurred_ms = occurred_ms;
    s->on_hand = on_hand;
    s->reserved = reserved;
    s->version = version;
    s->partition = partition;
    s->dirty = true;
    return SP_LEVEL_APPLIED;
}

int64_t sp_levels_available(const sp_levels *l, const char *article, const char *const *warehouses,
                            int warehouse_count) {
    int64_t sum = 0;
    for (int i = 0; i < warehouse_count; i++) {
        const level *s = lookup(l, warehouses[i], article);
        if (!s || s->version < 0) continue;
        /* A negative on_hand is a count error in the WMS: it sells nothing,
         * but it must not eat another warehouse's stock either. */
        sum += (s->on_hand > 0 ? s->on_hand : 0) - s->reserved;
    }
    return sum;
}

int64_t sp_levels_occurred(const sp_levels *l, const char *article, const char *const *warehouses,
                           int warehouse_count) {
    int64_t newest = 0;
    for (int i = 0; i < warehouse_count; i++) {
        const level *s = lookup(l, warehouses[i], article);
        if (s && s->occurred_ms > newest) newest = s->occurred_ms;
    }
    return newest;
}

int32_t sp_levels_partition(const sp_levels *l, const char *article, const char *const *warehouses,
                            int warehouse_count) {
    for (int i = 0; i < warehouse_count; i++) {
        const level *s = lookup(l, warehouses[i], article);
        if (s && s->version >= 0) return s->partition;
    }
    return -1;
}

bool sp_levels_get(const sp_levels *l, const char *warehouse, const char *article, int64_t *on_hand,
                   int64_t *reserved, int64_t *version) {
    const level *s = lookup(l, warehouse, article);
    if (!s || s->version < 0) return false;
    *on_hand = s->on_hand;
    *reserved = s->reserved;
    *version = s->version;
    return true;
}

int sp_levels_count(const sp_levels *l) { return (int)l->count; }

/* ---- PostgreSQL checkpoint: arrays in, one statement ---- */

typedef struct {
    char *buf;
    size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->buf = realloc(b->buf, b->cap);
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

/* Appends a text element to a PostgreSQL array literal, quoted and escaped. */
static void array_text(strbuf *b, const char *s) {
    sb_add(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sb_add(b, "\\", 1);
        sb_add(b, s, 1);
    }
    sb_add(b, "\"", 1);
}

static void array_int(strbuf *b, int64_t v) {
    char num[32];
    int n = snprintf(num, sizeof num, "%s%lld", b->len > 1 ? "," : "", (long long)v);
    sb_add(b, num, (size_t)n);
}

int sp_levels_checkpoint(sp_levels *l, wb_pg *pg) {
    strbuf cols[7] = {{0}};
    for (int c = 0; c < 7; c++) sb_add(&cols[c], "{", 1);
    int n = 0;
    for (size_t i = 0; i < l->cap; i++) {
        level *s = &l->slots[i];
        if (!s->warehouse || !s->dirty) continue;
        /* The goods owner has no '/', so the first one splits the article. */
        const char *slash = strchr(s->article, '/');
        if (!slash) continue;
        char *owner = strndup(s->article, (size_t)(slash - s->article));
        array_text(&cols[0], owner);
        free(owner);
        array_text(&cols[1], s->warehouse);
        array_text(&cols[2], slash + 1);
        array_int(&cols[3], s->on_hand);
        array_int(&cols[4], s->reserved);
        array_int(&cols[5], s->version);
        array_int(&cols[6], s->partition);
        n++;
    }
    int rc = n;
    if (n > 0) {
        for (int c = 0; c < 7; c++) sb_add(&cols[c], "}", 1);
        const char *params[7] = {cols[0].buf, cols[1].buf, cols[2].buf, cols[3].buf,
                                 cols[4].buf, cols[5].buf, cols[6].buf};
        /* The version guard keeps a slower replica from writing an older
         * level over a newer one during a hand-over. */
        if (wb_pg_exec(pg,
                "INSERT INTO stock_levels (goods_owner, warehouse, sku, on_hand, reserved, version, partition) "
                "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], "
                "$6::bigint[], $7::int[]) ON CONFLICT (goods_owner, warehouse, sku) DO UPDATE SET on_hand = EXCLUDED.on_hand, "
                "reserved = EXCLUDED.reserved, version = EXCLUDED.version, partition = EXCLUDED.partition, "
                "updated_at = now() WHERE stock_levels.version < EXCLUDED.version", 7, params) != 0)
            rc = -1;
    }
    for (int c = 0; c < 7; c++) free(cols[c].buf);
    if (rc > 0)
        for (size_t i = 0; i < l->cap; i++) l->slots[i].dirty = false;
    return rc;
}

int sp_levels_load_partition(sp_levels *l, wb_pg *pg, int32_t partition) {
    char p[16];
    snprintf(p, sizeof p, "%d", partition);
    const char *params[] = {p};
    PGresult *res = wb_pg_query(pg,
        "SELECT warehouse, goods_owner || '/' || sku, on_hand, reserved, version FROM stock_levels "
        "WHERE partition = $1",
        1, params);
    if (!res) return -1;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        level *s = insert(l, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        int64_t version = atoll(PQgetvalue(res, i, 4));
        if (version <= s->version) continue;
        s->on_hand = atoll(PQgetvalue(res, i, 2));
        s->reserved = atoll(PQgetvalue(res, i, 3));
        s->version = version;
        s->partition = partition;
        s->dirty = false;
    }
    PQclear(res);
    return n;
}

void sp_levels_drop_partition(sp_levels *l, int32_t partition) {
    level *old = l->slots;
    size_t old_cap = l->cap;
    l->slots = calloc(old_cap, sizeof *l->slots);
    l->count = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].warehouse) continue;
        if (old[i].partition == partition && old[i].version >= 0) {
            free(old[i].warehouse);
            free(old[i].article);
            continue;
        }
        *find_slot_h(l->slots, l->cap, old[i].warehouse, old[i].article, old[i].hash) = old[i];
        l->count++;
    }
    free(old);
}
