package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class JsonWriterTest {
    @Test
    void nestedObjectsAndArraysAreWrittenWithCommasInTheRightPlaces() {
        StringWriter out = new StringWriter();
        new JsonWriter(out).beginObject().name("a").beginArray().value(1).value("x").value(true).endArray()
            .name("b").beginObject().endObject().optional("skipped", null).name("n").value((String) null)
            .name("d").value(1.5).endObject();
        assertEquals("{\"a\":[1,\"x\",true],\"b\":{},\"n\":null,\"d\":1.5}", out.toString());
    }

    @Test
    void stringsEscapeQuotesBackslashesControlCharactersAndEverythingOutsideAscii() {
        StringWriter out = new StringWriter();
        new JsonWriter(out).value("q\" b\\ n\n t\t nul\u0000 del\u007f é 😀");
        assertEquals("\"q\\\" b\\\\ n\\n t\\t nul\\u0000 del\\u007f \\u00e9 \\ud83d\\ude00\"", out.toString());
    }

    @Property(tries = 300)
    void anyStringRoundTripsThroughAStrictReader(@ForAll String name, @ForAll String value) {
        StringWriter out = new StringWriter();
        new JsonWriter(out).beginObject().name("k" + name).value(value).name("list").beginArray().value(value)
            .endArray().endObject();
        String json = out.toString();
        assertTrue(json.chars().allMatch(c -> c >= 0x20 && c < 0x7f), json);
        assertEquals(Map.of("k" + name, value, "list", List.of(value)), JsonReader.parse(json));
    }

    @Test
    void misuseIsRefused() {
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringWriter()).beginObject().value(1));
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringWriter()).beginArray().endObject());
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringWriter()).value(1).value(2));
        assertThrows(IllegalArgumentException.class, () -> new JsonWriter(new StringWriter()).value(Double.NaN));
    }
}
