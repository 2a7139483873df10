package dev.forktrace.stream;

import dev.forktrace.proto.v1.Evidence;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.StreamHeader;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code report --html}: the report as one self-contained page (inline CSS, SVG and a little JS; nothing
 * fetched), for one capture or a whole topic. The page is drawn here, in Java; the script only filters the
 * failure list (by text, by cause, by a clicked timeline bar) and marks the page as rendered.
 */
final class HtmlReport {
    static final int TABLE_ROWS = 20;
    private static final String[] PALETTE = {"#d1495b", "#00798c", "#edae49", "#30638e", "#66a182", "#8d6a9f",
            "#c5702d", "#4f5d75", "#a3a948", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#6d597a"};
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneOffset.UTC);

    private final Report report;
    private final StringBuilder b = new StringBuilder(1 << 16);

    HtmlReport(Report report) {
        this.report = report;
    }

    String render() {
        Report.Histogram h = report.histogram();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"generator\" content=\"forktrace report --html\">")
                .append("<title>forktrace report: ").append(report.failures()).append(" failures</title>\n<style>")
                .append(CSS).append("</style></head>\n<body>\n");
        b.append("<header><h1>forktrace report</h1><p class=\"sub\">").append(summaryLine()).append("</p></header>\n");
        gapsBanner();
        b.append("<main>\n");
        timeline(h);
        b.append("<div class=\"grid\">\n");
        scopes();
        countCard("Top offenders", "the top holder named in each failure", report.byOffender(), "offender");
        if (report.byHost().size() > 1) {
            countCard("Hosts by failures", "from the stream headers", report.byHost(), "host");
        }
        countCard("Failing processes", "who could not create a task", report.byProcess(), "process");
        b.append("</div>\n");
        captures();
        failures();
        b.append("</main>\n<footer>Written by forktrace report --html from ");
        report.inputs().forEach(in -> b.append("<code>").append(esc(in.source())).append("</code> "));
        b.append("</footer>\n<script>").append(JS).append("</script>\n</body></html>\n");
        return b.toString();
    }

    private String summaryLine() {
        StringBuilder s = new StringBuilder();
        s.append("<strong>").append(report.failures()).append("</strong> failed task creations");
        Instant first = report.firstTime();
        if (first != null) {
            s.append(" from ").append(SECONDS.format(first)).append(" to ").append(SECONDS.format(report.lastTime()))
                    .append(" UTC");
        }
        long hosts = report.captureList().stream().map(c -> Report.hostOf(c.header)).distinct().count();
        s.append(" &middot; ").append(hosts).append(hosts == 1 ? " host" : " hosts").append(" &middot; ")
                .append(report.captureList().size()).append(report.captureList().size() == 1 ? " capture" : " captures");
        s.append(" &middot; dropped ").append(report.dropped());
        if (report.undeliverable() > 0) {
            s.append(" &middot; undeliverable ").append(report.undeliverable());
        }
        return s.toString();
    }

    private void gapsBanner() {
        StringBuilder items = new StringBuilder();
        for (Report.Capture c : report.captureList()) {
            List<String> reasons = Report.gaps(c);
            if (!reasons.isEmpty()) {
                items.append("<li><strong>").append(esc(Report.hostOf(c.header))).append("</strong> ")
                        .append(esc(shortId(c.header.getCaptureId()))).append(": ")
                        .append(esc(String.join("; ", reasons))).append("</li>");
            }
        }
        if (!items.isEmpty()) {
            b.append("<section class=\"gaps\"><h2>Streams with gaps</h2><ul>").append(items).append("</ul></section>\n");
        }
    }

    private String color(String cause) {
        int i = report.causeNames().indexOf(cause);
        return PALETTE[Math.floorMod(i < 0 ? cause.hashCode() : i, PALETTE.length)];
    }

    /** Stacked bars: failures per time bucket, one colour per cause; a click lists that bucket's failures. */
    private void timeline(Report.Histogram h) {
        b.append("<section class=\"card wide\"><h2>Timeline of failures per cause</h2>");
        if (h.counts().length == 0) {
            b.append("<p class=\"muted\">No timed failures.</p></section>\n");
            return;
        }
        List<String> causes = report.causeNames();
        long[][] perCause = report.histogramByCause(h);
        int n = h.counts().length;
        long max = Math.max(1, Arrays.stream(h.counts()).max().orElse(1));
        int width = 960;
        int height = 220;
        int left = 48;
        int bottom = 28;
        double slot = (double) (width - left - 8) / n;
        double barWidth = Math.max(1, slot * 0.82);
        b.append("<svg id=\"timeline\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" role=\"img\" aria-label=\"failures over time\">");
        for (int tick = 0; tick <= 4; tick++) {
            double y = height - bottom - (height - bottom - 10) * tick / 4.0;
            b.append(String.format("<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", left, width - 8, y, y));
            b.append(String.format("<text x=\"%d\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%d</text>", left - 6, y + 4,
                    Math.round(max * tick / 4.0)));
        }
        long bucketMillis = h.bucketSeconds() * 1000;
        for (int i = 0; i < n; i++) {
            double x = left + i * slot + (slot - barWidth) / 2;
            double y = height - bottom;
            long from = h.startMillis() + i * bucketMillis;
            for (int c = 0; c < causes.size(); c++) {
                long count = perCause[c][i];
                if (count == 0) {
                    continue;
                }
                double barHeight = (height - bottom - 10) * (double) count / max;
                y -= barHeight;
                b.append(String.format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                                + "data-from=\"%d\" data-to=\"%d\"><title>%s UTC, %s: %d</title></rect>",
                        x, y, barWidth, barHeight, color(causes.get(c)), from, from + bucketMillis,
                        SECONDS.format(Instant.ofEpochMilli(from)), esc(causes.get(c)), count));
            }
        }
        int labels = Math.min(n, 6);
        for (int l = 0; l < labels; l++) {
            int i = labels == 1 ? 0 : (int) Math.round((n - 1) * l / (double) (labels - 1));
            double x = left + i * slot + slot / 2;
            b.append(String.format("<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">%s</text>", x,
                    height - 8, DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC)
                            .format(Instant.ofEpochMilli(h.startMillis() + i * bucketMillis))));
        }
        b.append("</svg><p class=\"legend\">");
        Map<String, Long> byCause = report.byCause();
        for (String cause : byCause.keySet()) {
            b.append("<button class=\"cause\" data-cause=\"").append(esc(cause)).append("\"><span class=\"swatch\" style=\"background:")
                    .append(color(cause)).append("\"></span>").append(esc(cause)).append(" <span class=\"muted\">")
                    .append(byCause.get(cause)).append("</span></button> ");
        }
        b.append("<span class=\"muted\">bars of ").append(Report.human(java.time.Duration.ofSeconds(h.bucketSeconds())))
                .append("; click a bar or a cause to list its failures</span></p></section>\n");
    }

    private void scopes() {
        b.append("<section class=\"card\"><h2>Top scopes</h2><p class=\"muted\">the limit that refused</p>")
                .append("<table><thead><tr><th>failures</th><th>scope</th><th>limit</th><th>highest current</th></tr></thead><tbody>");
        List<Report.ScopeRow> rows = report.scopeRows();
        rows.stream().limit(TABLE_ROWS).forEach(r -> b.append("<tr><td class=\"n\">").append(r.count()).append("</td><td>")
                .append("<span class=\"kind\">").append(esc(r.kind())).append("</span> <code>").append(esc(r.name()))
                .append("</code></td><td class=\"n\">").append(r.limit() == Long.MAX_VALUE ? "max" : Long.toString(r.limit()))
                .append("</td><td class=\"n\">").append(r.highestCurrent()).append("</td></tr>"));
        if (rows.isEmpty()) {
            b.append("<tr><td colspan=\"4\" class=\"muted\">none</td></tr>");
        }
        b.append("</tbody></table>").append(more(rows.size())).append("</section>\n");
    }

    private void countCard(String title, String note, Map<String, Long> rows, String what) {
        long total = Math.max(1, report.failures());
        long top = rows.values().stream().mapToLong(Long::longValue).max().orElse(1);
        b.append("<section class=\"card\"><h2>").append(esc(title)).append("</h2><p class=\"muted\">").append(esc(note))
                .append("</p><table><tbody>");
        rows.entrySet().stream().limit(TABLE_ROWS).forEach(e -> b.append("<tr><td class=\"n\">").append(e.getValue())
                .append("</td><td class=\"n muted\">").append(String.format("%.1f%%", 100.0 * e.getValue() / total))
                .append("</td><td><div class=\"bar\" style=\"width:").append(Math.max(1, 100 * e.getValue() / top))
                .append("%\"></div><button class=\"filter\" data-text=\"").append(esc(e.getKey())).append("\" title=\"list the failures of this ")
                .append(what).append("\">").append(esc(e.getKey())).append("</button></td></tr>"));
        if (rows.isEmpty()) {
            b.append("<tr><td class=\"muted\">none</td></tr>");
        }
        b.append("</tbody></table>").append(more(rows.size())).append("</section>\n");
    }

    private static String more(int rows) {
        return rows > TABLE_ROWS ? "<p class=\"muted\">and " + (rows - TABLE_ROWS) + " more (report --format json has all)</p>" : "";
    }

    private void captures() {
        b.append("<section class=\"card wide\"><h2>Captures</h2><table><thead><tr><th>host</th><th>capture</th><th>kernel</th>")
                .append("<th>started (UTC)</th><th>failures</th><th>delivered</th><th>dropped</th><th>stream</th></tr></thead><tbody>");
        for (Report.Capture c : report.captureList()) {
            StreamHeader hd = c.header;
            List<String> reasons = Report.gaps(c);
            b.append("<tr><td>").append(esc(Report.hostOf(hd))).append("</td><td><code title=\"").append(esc(hd.getCaptureId()))
                    .append("\">").append(esc(shortId(hd.getCaptureId()))).append("</code></td><td>").append(esc(hd.getKernelRelease()))
                    .append("</td><td>").append(hd.hasStartTime() ? SECONDS.format(Instant.ofEpochSecond(hd.getStartTime().getSeconds())) : "")
                    .append("</td><td class=\"n\">").append(c.failures).append("</td><td class=\"n\">")
                    .append(c.last == null ? "" : Long.toString(c.last.getDelivered())).append("</td><td class=\"n\">")
                    .append(c.last == null ? "" : Long.toString(c.last.getDropped())).append("</td><td>")
                    .append(reasons.isEmpty() ? "<span class=\"ok\">complete</span>"
                            : "<span class=\"bad\">" + esc(String.join("; ", reasons)) + "</span>")
                    .append("</td></tr>");
        }
        b.append("</tbody></table></section>\n");
    }

    private void failures() {
        List<Report.Kept> kept = report.keptFailures();
        b.append("<section class=\"card wide\"><h2>Failures</h2><p class=\"controls\"><input id=\"search\" type=\"search\" ")
                .append("placeholder=\"filter: text in the row (host, cause, process, scope, message)\" size=\"60\"> ")
                .append("<button id=\"clear\">show all</button> <span id=\"shown\" class=\"muted\"></span></p>");
        if (kept.size() < report.failures()) {
            b.append("<p class=\"muted\">Listing the first ").append(kept.size()).append(" of ").append(report.failures())
                    .append(" failures; the tables and the timeline count all.</p>");
        }
        b.append("<div id=\"failures\">");
        for (int index = 0; index < kept.size(); index++) {
            Report.Kept k = kept.get(index);
            ForkFailure f = k.failure();
            long millis = f.getTime().getSeconds() * 1000 + f.getTime().getNanos() / 1_000_000;
            String cause = Report.causeName(f);
            String process = (f.getProcessComm().isEmpty() ? f.getComm() : f.getProcessComm()) + " (pid " + f.getPid() + ")";
            b.append("<details class=\"failure\" id=\"failure-").append(index).append("\" data-cause=\"").append(esc(cause)).append("\" data-time=\"")
                    .append(f.hasTime() ? millis : -1).append("\"><summary><span class=\"swatch\" style=\"background:")
                    .append(color(cause)).append("\"></span><span class=\"t\">")
                    .append(f.hasTime() ? MILLIS.format(Instant.ofEpochMilli(millis)) : "(no time)")
                    .append("</span> <span class=\"host\">").append(esc(k.host())).append("</span> <strong>").append(esc(cause))
                    .append("</strong> ").append(esc(process)).append(" <span class=\"muted\">").append(esc(f.getErrno()))
                    .append(f.getThread() ? " thread" : "").append(" &middot; ").append(esc(f.getScope().getName()))
                    .append("</span></summary><div class=\"body\"><p class=\"message\">").append(esc(f.getMessage())).append("</p>");
            b.append("<dl><dt>confidence</dt><dd>").append(esc(f.getConfidence().name())).append("</dd><dt>syscall</dt><dd>")
                    .append(esc(f.getSyscall().name())).append(" ").append(esc(String.join("|", f.getCloneFlagNamesList())))
                    .append("</dd><dt>scope</dt><dd>").append(esc(f.getScope().getKind().name())).append(" <code>")
                    .append(esc(f.getScope().getName())).append("</code> limit ")
                    .append(f.getScope().getLimit() == Long.MAX_VALUE ? "max" : Long.toString(f.getScope().getLimit()))
                    .append(", current ").append(f.getScope().getCurrent()).append("</dd>");
            if (f.hasJava() && !f.getJava().getThreadName().isEmpty()) {
                b.append("<dt>java thread</dt><dd>").append(esc(f.getJava().getThreadName())).append("</dd>");
            }
            b.append("</dl>");
            if (f.getEvidenceCount() > 0) {
                b.append("<table class=\"evidence\"><thead><tr><th>evidence</th><th>subject</th><th>value</th><th>relation</th><th>compared to</th></tr></thead><tbody>");
                for (Evidence e : f.getEvidenceList()) {
                    b.append("<tr><td><code>").append(esc(e.getKey())).append("</code></td><td>").append(esc(e.getSubject()))
                            .append("</td><td class=\"n\">").append(e.getValue()).append("</td><td>").append(esc(e.getRelation()))
                            .append("</td><td class=\"n\">").append(e.getComparedTo()).append("</td></tr>");
                }
                b.append("</tbody></table>");
            }
            if (f.getOffendersCount() > 0) {
                b.append("<table class=\"evidence\"><thead><tr><th>offender</th><th>pid</th><th>tasks</th><th>memory</th><th>command</th></tr></thead><tbody>");
                for (Offender o : f.getOffendersList()) {
                    b.append("<tr><td>").append(esc(o.getComm())).append("</td><td class=\"n\">").append(o.getPid())
                            .append("</td><td class=\"n\">").append(o.getTasks()).append("</td><td class=\"n\">")
                            .append(o.getMemoryBytes()).append("</td><td><code>").append(esc(o.getCmdline())).append("</code></td></tr>");
                }
                b.append("</tbody></table>");
            }
            if (f.hasJava() && f.getJava().getStackCount() > 0) {
                b.append("<pre>").append(esc(String.join("\n", f.getJava().getStackList()))).append("</pre>");
            }
            b.append("</div></details>\n");
        }
        b.append("</div></section>\n");
    }

    private static String shortId(String id) {
        return id.length() > 8 ? id.substring(0, 8) : id;
    }

    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static final String CSS = """
            :root{--fg:#1d2330;--muted:#6b7280;--line:#e5e7eb;--bg:#f7f7f9;--card:#fff;--accent:#30638e}
            *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
            header{padding:18px 28px 10px;background:#1d2330;color:#fff}header h1{margin:0;font-size:22px}
            .sub{margin:4px 0 0;color:#cbd5e1}main{padding:16px 28px}h2{font-size:16px;margin:0 0 4px}
            .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin-bottom:16px;overflow:auto}
            .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}.grid .card{margin:0}
            .gaps{margin:12px 28px 0;padding:10px 16px;border-radius:8px;background:#fdecea;border:1px solid #f5c2c0}
            .gaps ul{margin:4px 0 0;padding-left:20px}table{border-collapse:collapse;width:100%}
            th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
            th{font-weight:600;color:var(--muted);font-size:12px}td.n{width:1%;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            .muted{color:var(--muted)}.kind{font-size:11px;color:var(--muted)}code{font:12px ui-monospace,monospace}
            svg{width:100%;height:auto}svg rect{cursor:pointer}svg rect:hover{opacity:.75}
            svg .grid{stroke:var(--line)}svg .axis{font-size:11px;fill:var(--muted)}
            .legend{margin:6px 0 0}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
            button{font:inherit;border:1px solid var(--line);background:#fff;border-radius:5px;padding:1px 7px;cursor:pointer}
            button.filter{border:0;background:none;padding:0;text-align:left;position:relative}
            .bar{height:4px;background:var(--accent);opacity:.35;border-radius:2px;margin-bottom:2px}
            .ok{color:#2f7d32}.bad{color:#b3261e}details.failure{border-bottom:1px solid var(--line);padding:3px 0}
            details.failure summary{cursor:pointer}details.failure .t{font:12px ui-monospace,monospace;color:var(--muted)}
            .host{font-size:12px;background:#eef2f7;border-radius:4px;padding:0 5px}
            .body{padding:6px 0 10px 18px}.message{font-weight:600;margin:0 0 6px}
            dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 8px}dt{color:var(--muted)}dd{margin:0}
            table.evidence{margin:6px 0;width:auto}pre{background:#f3f4f6;padding:8px;overflow:auto}
            footer{padding:8px 28px 20px;color:var(--muted);font-size:12px}
            """;

    // Filters the failure list; sets data-forktrace-ready on <html> once it ran (the test looks for it).
    private static final String JS = """
            (function () {
              'use strict';
              var rows = Array.prototype.slice.call(document.querySelectorAll('details.failure'));
              var search = document.getElementById('search');
              var shown = document.getElementById('shown');
              var filter = {text: '', cause: null, from: null, to: null};
              function apply() {
                var text = filter.text.toLowerCase(), n = 0;
                rows.forEach(function (row) {
                  var t = Number(row.getAttribute('data-time'));
                  var ok = (!text || row.textContent.toLowerCase().indexOf(text) >= 0)
                    && (!filter.cause || row.getAttribute('data-cause') === filter.cause)
                    && (filter.from === null || (t >= filter.from && t < filter.to));
                  row.style.display = ok ? '' : 'none';
                  if (ok) { n++; }
                });
                shown.textContent = n + ' of ' + rows.length + ' listed failures shown';
              }
              function reset() { filter = {text: '', cause: null, from: null, to: null}; search.value = ''; }
              function reveal() { document.getElementById('failures').scrollIntoView({behavior: 'smooth'}); }
              search.addEventListener('input', function () { filter.text = search.value; apply(); });
              document.getElementById('clear').addEventListener('click', function () { reset(); apply(); });
              document.querySelectorAll('button.cause').forEach(function (button) {
                button.addEventListener('click', function () {
                  reset(); filter.cause = button.getAttribute('data-cause'); apply(); reveal();
                });
              });
              document.querySelectorAll('button.filter').forEach(function (button) {
                button.addEventListener('click', function () {
                  reset(); filter.text = button.getAttribute('data-text'); search.value = filter.text; apply(); reveal();
                });
              });
              document.querySelectorAll('#timeline rect').forEach(function (bar) {
                bar.addEventListener('click', function () {
                  reset();
                  filter.from = Number(bar.getAttribute('data-from'));
                  filter.to = Number(bar.getAttribute('data-to'));
                  apply(); reveal();
                });
              });
              // #failure-N in the address opens that failure: a link to one failure can be shared.
              var linked = location.hash && document.getElementById(location.hash.slice(1));
              if (linked && linked.tagName === 'DETAILS') { linked.open = true; linked.scrollIntoView({block: 'nearest'}); }
              apply();
              document.documentElement.setAttribute('data-forktrace-ready', String(rows.length));
            })();
            """;
}
