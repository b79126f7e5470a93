/*
 * syncfs(2) for the JVM: one call that writes back every dirty page and inode of a file system and
 * commits its journal, where flushing a tree of N entries otherwise takes N fsyncs (each a journal
 * commit and a cache flush on ext4). The JDK has no way to call it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Opens path (its bytes, NUL-free) read-only, never following a symlink; a descriptor or -errno. */
static int open_path(JNIEnv *env, jbyteArray path, int flags) {
    jsize length = (*env)->GetArrayLength(env, path);
    char *name = malloc((size_t) length + 1);
    if (name == NULL) {
        return -ENOMEM;
    }
    (*env)->GetByteArrayRegion(env, path, 0, length, (jbyte *) name);
    name[length] = '\0';
    int fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
    int error = errno;
    free(name);
    return fd >= 0 ? fd : -error;
}

/*
 * Opens the directory at path (its bytes, NUL-free) without following a symlink and syncs its file
 * system. Returns 0 or the errno of the call that failed.
 */
JNIEXPORT jint JNICALL Java_org_granary_store_FileSystemSync_syncfs(JNIEnv *env, jclass type, jbyteArray path) {
    int fd = open_path(env, path, O_DIRECTORY);
    if (fd < 0) {
        return -fd;
    }
    int result = syncfs(fd) == 0 ? 0 : errno;
    close(fd);
    return result;
}

/*
 * Starts writing back the dirty pages of the regular file at path without waiting for them
 * (sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later syncfs finds less to write. Returns 0 or
 * the errno of the call that failed.
 */
JNIEXPORT jint JNICALL Java_org_granary_store_FileSystemSync_startWriteback(JNIEnv *env, jclass type, jbyteArray path) {
    int fd = open_path(env, path, 0);
    if (fd < 0) {
        return -fd;
    }
    int result = sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : errno;
    close(fd);
    return result;
}
