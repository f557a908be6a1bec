// Drives the dashboard in headless Chromium (Debian's /usr/bin/chromium) with playwright-core.
// Started by crates/gateway/tests/api/browser.rs, which has started the server, pushed a bad
// OPI over SOAP and posted an LP batch. Env: BASE_URL, UI_SECRET, BATCH_ID, OUT_DIR.
// Exits non-zero on the first failed check; screenshots go to OUT_DIR.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const base = process.env.BASE_URL;
const secret = process.env.UI_SECRET;
const batch = process.env.BATCH_ID;
const out = process.env.OUT_DIR || "target/browser-artifacts";
mkdirSync(out, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok -", what);
}

const requests = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1366, height: 900 }, locale: "fr-FR" });
  const page = await context.newPage();
  page.on("request", (r) => requests.push(r.url()));
  const shot = (name) => page.screenshot({ path: join(out, name + ".png"), fullPage: true });

  // Not logged in: the login page; the first Tab reaches the skip link.
  await page.goto(base + "/");
  check(page.url().endsWith("/ui/login"), "/ redirects to the login page: " + page.url());
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement.textContent)) === "Aller au contenu", "first Tab stop is the skip link");
  check(await page.getByLabel("Secret du client (droit journal:read)").isVisible(), "the secret field has its label");
  await shot("01-connexion");

  // A wrong secret is refused on the page.
  await page.getByLabel("Secret du client (droit journal:read)").fill("apg_faux");
  await page.getByRole("button", { name: "Se connecter" }).click();
  check((await page.locator("[role=alert]").textContent()).includes("Jeton invalide"), "a wrong secret is refused");

  // Log in with the keyboard.
  await page.getByLabel("Secret du client (droit journal:read)").fill(secret);
  await page.keyboard.press("Enter");
  await page.waitForURL(base + "/ui/");
  check(!page.url().includes(secret), "the secret is not in the URL");
  check(!(await page.content()).includes(secret), "the secret is not in the page");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "apogee_session");
  check(session && session.httpOnly && session.sameSite === "Strict", "session cookie is HttpOnly, SameSite=Strict");
  check(await page.locator("#compteurs").isVisible(), "counters are shown");
  const opiToday = await page.locator("#compteur-opi .n").textContent();
  check(Number(opiToday) >= 1, "OPI counter today >= 1: " + opiToday);
  check(Number(await page.locator("#compteur-rejects .n").textContent()) >= 1, "reject counter today >= 1");
  check(await page.locator("#graphique g.bar").count() >= 1, "the chart has a bar for today");
  await shot("02-tableau-de-bord-compteurs");

  // The reject under its cause.
  const ineRow = page.locator("#table-causes tr", { hasText: "INE / INES" });
  check((await ineRow.locator("td").nth(1).textContent()) === "1", "one reject under INE / INES");
  await page.locator("#table-causes").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(out, "03-rejets-par-cause.png") });
  await ineRow.getByRole("link", { name: "INE / INES" }).click();
  await page.waitForURL(/\/ui\/rejets\/ine/);
  const row = page.locator("#table-journal tbody tr").first();
  check((await row.textContent()).includes("JVMWT75DRZ"), "the journal row shows the OPI key");
  check((await row.textContent()).includes("technical.parameter.noncoherentinput.codNneIndOpi"), "the journal row shows the fault key");
  await shot("04-rejets-ine");

  // CSV download of that table.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Exporter ces lignes du journal (CSV)" }).click(),
  ]);
  const csvPath = join(out, "rejets-ine.csv");
  await download.saveAs(csvPath);
  const csv = readFileSync(csvPath, "utf8");
  check(csv.startsWith("id,at,client,operation,keyKind,key,outcome,httpStatus,faultKey,message,requestId"), "CSV header");
  check(csv.includes("JVMWT75DRZ") && csv.includes("noncoherentinput.codNneIndOpi"), "CSV holds the reject");

  // Drill-down to the journal row.
  await row.locator("a").first().click();
  await page.waitForURL(/\/ui\/journal\/\d+/);
  const detail = await page.locator("#ligne-journal").textContent();
  check(detail.includes("mettreajourDonneesOpi_v10") && detail.includes("INE / INES"), "journal row detail with its cause");
  check(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} UTC/.test(detail), "French date format");
  await shot("05-ligne-journal");

  // CVEC view.
  await page.getByRole("link", { name: "CVEC" }).click();
  await page.waitForURL(/\/ui\/cvec/);
  check(await page.locator("#table-cvec").isVisible(), "CVEC table");
  check((await page.locator("#table-cvec").textContent()).includes("INVALIDE"), "CVEC checks by result and reason");
  await shot("06-cvec");

  // The LP batch and its report.
  await page.getByRole("link", { name: "Lots de laissez-passer" }).click();
  await page.waitForURL(/\/ui\/lots$/);
  await shot("07-lots");
  await page.locator(`a[href="/ui/lots/${batch}"]`).click();
  await page.waitForURL(new RegExp(`/ui/lots/${batch}$`));
  const report = await page.locator("#table-rapport").textContent();
  check(report.includes("INCONNU01") && report.includes("rejected"), "the batch report lists the rejected line");
  await shot("08-rapport-lot");
  const [reportCsv] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Exporter le rapport du lot (CSV)" }).click(),
  ]);
  const reportPath = join(out, "rapport-lot.csv");
  await reportCsv.saveAs(reportPath);
  check(readFileSync(reportPath, "utf8").includes("INCONNU01"), "batch report CSV");

  // Logout: the session is gone.
  await page.getByRole("button", { name: "Se déconnecter" }).click();
  await page.waitForURL(/\/ui\/login$/);
  await page.goto(base + "/ui/");
  check(page.url().endsWith("/ui/login"), "after logout the dashboard asks for login again");

  const foreign = requests.filter((u) => !u.startsWith(base));
  check(foreign.length === 0, "no request leaves the server: " + foreign.join(", "));
} finally {
  await browser.close();
}
console.log("browser test passed");
