// Debian's libopenblas-dev puts cblas.h on the default include path (via /usr/include/<triplet>).
#include <cblas.h>
// openblas_set_num_threads and friends live in cblas.h for OpenBLAS builds.
