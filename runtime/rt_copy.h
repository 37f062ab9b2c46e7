/* rt_copy.h - element movement shared by the data-movement kernels (internal to runtime/; not
 * part of the ABI): a strided run copy and the row-major walk of a strided view. They move
 * elements of size es without looking at them, so they serve every element type. Static inline,
 * so that in the kernels' bitcode a constant element size and rank specialise the loops.
 * Users: Transpose (runtime/rt_shape.c); Slice, Expand, Tile, DepthToSpace/SpaceToDepth
 * (runtime/rt_index.c).
 */
#ifndef ONNXC_RT_COPY_H
#define ONNXC_RT_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Largest rank rt_strided_gather walks: twice the IR's 64, for the 2r-dim views of
 * DepthToSpace/SpaceToDepth. */
#define RT_COPY_MAX_RANK 128

/* Copies n elements of size es from src (stride sstride elements, may be 0 or negative) to
 * contiguous dst. */
static inline void rt_strided_copy(char *dst, const char *src, int64_t n, int64_t sstride,
                                   size_t es) {
    if (sstride == 1) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++) dst[i] = src[i * sstride];
        break;
    case 2: {
        uint16_t *d = (uint16_t *)dst;
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) d[i] = s[i * sstride];
        break;
    }
    case 4: {
        uint32_t *d = (uint32_t *)dst;
        const uint32_t *s = (const uint32_t *)src;
        for (int64_t i = 0; i < n; i++) d[i] = s[i * sstride];
        break;
    }
    case 8: {
        uint64_t *d = (uint64_t *)dst;
        const uint64_t *s = (const uint64_t *)src;
        for (int64_t i = 0; i < n; i++) d[i] = s[i * sstride];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * es, src + (i * sstride) * (int64_t)es, es);
        break;
    }
}

/* Writes the r-dim output `dims` (0 <= r <= RT_COPY_MAX_RANK) in row-major order to dst;
 * output element o reads src[base + sum_d o_d * stride[d]] (element units; strides may be 0 or
 * negative). The caller has checked that every such offset lies inside src. */
static inline void rt_strided_gather(char *dst, const char *src, int r, const int64_t *dims,
                                     const int64_t *stride, int64_t base, size_t es) {
    int64_t total = 1;
    for (int i = 0; i < r; i++) total *= dims[i];
    if (total == 0) return;
    if (r == 0) {
        memcpy(dst, src + base * (int64_t)es, es);
        return;
    }
    int64_t inner = dims[r - 1];
    int64_t idx[RT_COPY_MAX_RANK] = {0}; /* odometer over dims 0..r-2 */
    int64_t off = base;
    for (int64_t done = 0; done < total; done += inner) {
        rt_strided_copy(dst + (size_t)done * es, src + off * (int64_t)es, inner, stride[r - 1],
                        es);
        for (int i = r - 2; i >= 0; i--) {
            idx[i]++;
            off += stride[i];
            if (idx[i] < dims[i]) break;
            off -= idx[i] * stride[i];
            idx[i] = 0;
        }
    }
}

#endif
