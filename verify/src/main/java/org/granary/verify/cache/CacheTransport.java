package org.granary.verify.cache;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Fetches the files of a binary cache by their path relative to it. Implementations may be shared
 * between threads.
 */
abstract class CacheTransport {
    private final String uri;

    CacheTransport(String uri) {
        this.uri = uri;
    }

    /**
     * Returns the transport for a cache URI.
     *
     * @param uri {@code file:///DIR}, {@code http://HOST[/prefix]} or {@code https://HOST[/prefix]}
     * @return the transport
     * @throws IllegalArgumentException for another scheme or a malformed URI
     */
    static CacheTransport of(String uri) {
        String base = uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
        URI parsed = URI.create(base);
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme();
        return switch (scheme) {
            case "file" -> {
                if (parsed.getPath() == null || parsed.getPath().isEmpty() || parsed.getAuthority() != null) {
                    throw new IllegalArgumentException("cache URI " + uri + ": expected file:///ABSOLUTE/DIR");
                }
                yield new FileTransport(base, Path.of(parsed.getPath()));
            }
            case "http", "https" -> {
                if (parsed.getHost() == null || parsed.getQuery() != null || parsed.getFragment() != null) {
                    throw new IllegalArgumentException("cache URI " + uri + ": expected " + scheme
                        + "://HOST[:PORT][/PREFIX] without query or fragment");
                }
                yield new HttpTransport(base);
            }
            default -> throw new IllegalArgumentException("cache URI " + uri
                + ": only file://, http:// and https:// caches are supported");
        };
    }

    /** The cache's URI, without a trailing {@code /}. */
    final String uri() {
        return uri;
    }

    /** The URL of a file of the cache, for messages. */
    final String urlOf(String relative) {
        return uri + "/" + relative;
    }

    /**
     * Opens a file of the cache.
     *
     * @param relative a relative path: no leading {@code /}, no empty, {@code .} or {@code ..} segment
     * @return its bytes, or empty if the cache has no such file
     * @throws IOException if it cannot be read, or the path is not such a relative path
     */
    final Optional<InputStream> open(String relative) throws IOException {
        // A narinfo names its NAR file: it must not reach outside the cache or to another host.
        boolean plain = relative.chars().allMatch(c -> c > ' ' && c <= '~' && "\\?#:%".indexOf(c) < 0);
        for (String segment : relative.split("/", -1)) {
            plain &= !segment.isEmpty() && !segment.equals(".") && !segment.equals("..");
        }
        if (!plain) {
            throw new IOException(uri + ": refusing the file \"" + relative
                + "\": only a plain relative path below the cache is allowed");
        }
        return fetch(relative);
    }

    abstract Optional<InputStream> fetch(String relative) throws IOException;

    /** A cache in a local directory. */
    private static final class FileTransport extends CacheTransport {
        private final Path directory;

        FileTransport(String uri, Path directory) {
            super(uri);
            this.directory = directory;
        }

        @Override
        Optional<InputStream> fetch(String relative) throws IOException {
            try {
                return Optional.of(Files.newInputStream(directory.resolve(relative)));
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
        }
    }

    /** A cache served over HTTP(S), through the JDK's client, made on first use. */
    private static final class HttpTransport extends CacheTransport {
        private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
        private HttpClient client;

        HttpTransport(String uri) {
            super(uri);
        }

        private synchronized HttpClient client() {
            if (client == null) {
                client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(CONNECT_TIMEOUT).build();
            }
            return client;
        }

        @Override
        Optional<InputStream> fetch(String relative) throws IOException {
            String url = urlOf(relative);
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();
            HttpResponse<InputStream> response;
            try {
                response = client().send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(url + ": interrupted", e);
            }
            int status = response.statusCode();
            if (status == 200) {
                return Optional.of(response.body());
            }
            response.body().close();
            // 404 and 410 say "not here"; S3-backed caches answer 403 for a missing key, as Nix knows.
            if (status == 404 || status == 410 || status == 403) {
                return Optional.empty();
            }
            throw new IOException(url + ": HTTP status " + status);
        }
    }
}
