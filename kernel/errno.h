/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Error numbers returned (negated) by kernel functions that can fail.
 * 0 means success; functions document which errors they return.
 */
#ifndef PAGODA_KERNEL_ERRNO_H
#define PAGODA_KERNEL_ERRNO_H

#define ENOENT 2 /* nothing there */
#define ENOMEM 12 /* out of frames (or an injected allocation failure) */
#define EEXIST 17 /* the range is already (partly) mapped */
#define EINVAL 22 /* misaligned or out-of-range argument */
#define EBUSY 16
#define ENOSPC 28 /* no free id or slot left */
#define ENODEV 19 /* no such device, or the platform lacks what it needs (an MSI target) */
#define EAGAIN 11 /* would have to wait or sleep where the caller may not: try again later */
#define EFAULT 14 /* a device access met no translation or too few permissions */
#define ETIMEDOUT 110 /* a device did not finish within its bound */
#define EIO 5 /* a device stopped working, or stopped consuming commands: not used again */

#endif
