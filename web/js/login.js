// admin/login.html: log in as an administrator, keep the token, go on to the page that sent us here.
import { describeError } from "./api.js";
import { adminNextPage, canRenew, clearSession, isExpired, loadSession, login, reasonText, saveSession } from "./auth.js";
import { t } from "./i18n.js";
import { byTestId } from "./ui.js";

function init() {
  const form = byTestId("login-form");
  const message = byTestId("login-message");
  const error = byTestId("login-error");
  const submit = byTestId("login-submit");

  const reason = new URLSearchParams(location.search).get("reason");
  message.textContent = reasonText(reason);

  // Already logged in (e.g. a second tab): go straight on, unless we were just sent back here.
  const existing = loadSession("admin");
  if (!reason && existing && existing.user.user_type === "admin" && (!isExpired(existing) || canRenew(existing))) {
    location.replace(adminNextPage());
    return;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      error.textContent = t("login.missing_fields");
      return;
    }
    submit.disabled = true;
    submit.textContent = t("login.submitting");
    try {
      const result = await login(username, password);
      if (result.user.user_type !== "admin") {
        clearSession("admin");
        message.textContent = "";
        error.textContent = reasonText("not_admin");
        return;
      }
      saveSession("admin", result);
      location.replace(adminNextPage());
    } catch (err) {
      error.textContent = describeError(err);
    } finally {
      submit.disabled = false;
      submit.textContent = t("login.submit");
    }
  });
  form.elements.username.focus();
}

init();
