/*
 * renameat2(RENAME_EXCHANGE) for the JVM: swaps two directory entries in one step, so that repair can put
 * a restored item in place of a corrupt one without a moment where the store path is absent. The JDK has
 * no such call (Files.move cannot replace a non-empty directory), and coreutils 9.1 has no mv --exchange.
 *
 * Called through the raw system call, so building needs no recent libc; a kernel or file system without
 * it answers ENOSYS or EINVAL, and the Java side then falls back (AtomicExchange documents how).
 */
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* A NUL-terminated copy of a Java byte array; NULL if out of memory. */
static char *copy_path(JNIEnv *env, jbyteArray bytes) {
    jsize length = (*env)->GetArrayLength(env, bytes);
    char *path = malloc((size_t) length + 1);
    if (path == NULL) {
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, bytes, 0, length, (jbyte *) path);
    path[length] = '\0';
    return path;
}

/* Whether the call exists here: SYS_renameat2 is defined at build time (Linux 3.15 and later). */
JNIEXPORT jboolean JNICALL Java_org_granary_verify_AtomicExchange_load(JNIEnv *env, jclass type) {
#ifdef SYS_renameat2
    return JNI_TRUE;
#else
    return JNI_FALSE;
#endif
}

/* Exchanges the entries at two paths; returns 0, or the errno of the failure. */
JNIEXPORT jint JNICALL Java_org_granary_verify_AtomicExchange_exchange(JNIEnv *env, jclass type, jbyteArray first,
        jbyteArray second) {
#ifdef SYS_renameat2
    char *a = copy_path(env, first);
    char *b = copy_path(env, second);
    int result = 0;
    if (a == NULL || b == NULL) {
        result = ENOMEM;
    } else if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0) {
        result = errno;
    }
    free(a);
    free(b);
    return result;
#else
    return ENOSYS;
#endif
}

/* The text of an errno, for exception messages. */
JNIEXPORT jstring JNICALL Java_org_granary_verify_AtomicExchange_describe(JNIEnv *env, jclass type, jint error) {
    return (*env)->NewStringUTF(env, strerror(error));
}
