package org.granary.verify.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
     * @param relative a relative URL path: segments separated by {@code /}, none empty, {@code .} or
     *     {@code ..} (also once percent-decoded), printable ASCII without {@code ? # : \}; percent
     *     escapes as {@code guix publish} writes them ({@code %2B} for {@code +})
     * @return its bytes, or empty if the cache has no such file
     * @throws IOException if it cannot be read, or the path is not such a relative path
     */
    final Optional<InputStream> open(String relative) throws IOException {
        // A narinfo names its NAR file: it must not reach outside the cache or to another host.
        List<String> segments = new ArrayList<>();
        boolean plain = !relative.isEmpty()
            && relative.chars().allMatch(c -> c > ' ' && c <= '~' && "\\?#:".indexOf(c) < 0);
        for (String segment : plain ? relative.split("/", -1) : new String[0]) {
            String decoded = percentDecode(segment);
            if (decoded == null || decoded.isEmpty() || decoded.equals(".") || decoded.equals("..")
                    || decoded.indexOf('/') >= 0 || decoded.indexOf('\0') >= 0) {
                plain = false;
                break;
            }
            segments.add(decoded);
        }
        if (!plain) {
            throw new IOException(uri + ": refusing the file \"" + relative
                + "\": only a plain relative path below the cache is allowed");
        }
        return fetch(relative, segments);
    }

    /** Decodes {@code %XX} escapes as UTF-8; null if an escape is malformed. */
    private static String percentDecode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c != '%') {
                bytes.write(c);
                continue;
            }
            if (i + 2 >= segment.length() || Character.digit(segment.charAt(i + 1), 16) < 0
                    || Character.digit(segment.charAt(i + 2), 16) < 0) {
                return null;
            }
            bytes.write(Integer.parseInt(segment.substring(i + 1, i + 3), 16));
            i += 2;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * Fetches a checked file.
     *
     * @param relative the path as the narinfo gives it (percent escapes kept, for a URL)
     * @param segments its segments, percent-decoded (for a file name)
     */
    abstract Optional<InputStream> fetch(String relative, List<String> segments) throws IOException;

    /** A cache in a local directory. */
    private static final class FileTransport extends CacheTransport {
        private final Path directory;

        FileTransport(String uri, Path directory) {
            super(uri);
            this.directory = directory;
        }

        @Override
        Optional<InputStream> fetch(String relative, List<String> segments) throws IOException {
            Path file = directory;
            for (String segment : segments) {
                file = file.resolve(segment);
            }
            try {
                return Optional.of(Files.newInputStream(file));
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
        Optional<InputStream> fetch(String relative, List<String> segments) throws IOException {
            String url = urlOf(relative);
            HttpRequest request;
            try {
                request = HttpRequest.newBuilder(URI.create(url)).GET().build();
            } catch (IllegalArgumentException e) {
                throw new IOException(url + ": not a valid URL: " + e.getMessage(), e);
            }
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
