// zlib for the SPDY header-block compression (Debian: zlib1g-dev).
#include <zlib.h>
