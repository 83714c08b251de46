#ifndef RBENCH_CLIBGIT2_SHIM_H
#define RBENCH_CLIBGIT2_SHIM_H
#include <git2.h>

// git_libgit2_opts is variadic, which Swift cannot call: wrap the options we need.
static inline int rbench_git_disable_owner_validation(void) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}
#endif
