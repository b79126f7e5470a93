package org.granary.cli;

import java.io.Writer;
import org.granary.verify.Finding;
import org.granary.verify.Report;

/**
 * The JSON form of a verification report: {@code {"findings": [...], "summary": {...}}}, each finding
 * with {@code kind}, {@code path}, {@code damage}, {@code action} and, where they apply, {@code file},
 * {@code expected}, {@code actual} and {@code detail}. Stateless.
 */
final class ReportJson {
    private ReportJson() {
    }

    static void write(Report report, Writer out) {
        JsonWriter json = new JsonWriter(out).beginObject().name("findings").beginArray();
        for (Finding finding : report.findings()) {
            json.beginObject()
                .name("kind").value(finding.kind().label())
                .name("path").value(finding.path())
                .optional("file", finding.file())
                .optional("expected", finding.expected())
                .optional("actual", finding.actual())
                .name("damage").value(finding.damage())
                .name("action").value(finding.action().label())
                .optional("detail", finding.detail())
                .endObject();
        }
        json.endArray();
        Report.Summary summary = report.summary();
        json.name("summary").beginObject()
            .name("sound").value(report.sound())
            .name("items").value(summary.items())
            .name("itemsHashed").value(summary.itemsHashed())
            .name("bytesHashed").value(summary.bytesHashed())
            .name("findings").beginObject();
        for (Finding.Kind kind : Finding.Kind.values()) {
            json.name(kind.label()).value(summary.byKind().get(kind));
        }
        json.endObject()
            .name("repaired").value(summary.repaired())
            .name("invalidated").value(summary.invalidated())
            .name("failed").value(summary.failed())
            .name("remaining").value(summary.remaining())
            .name("elapsedSeconds").value(summary.elapsed().toNanos() / 1e9)
            .name("jobs").value(summary.jobs())
            .name("contents").value(summary.contents())
            .name("repair").value(summary.repair())
            .name("atomicExchange").value(summary.atomicExchange())
            .endObject()
            .endObject();
    }
}
