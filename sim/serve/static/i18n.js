// Words of the page from the server's message catalogue (sim/i18n/*.json, keys "page.*").
"use strict";
const I18N = {lang: "en", messages: {}, languages: {en: "English"}};

async function loadMessages(lang) {
  const answer = await api("GET", `/api/messages?lang=${encodeURIComponent(lang)}`);
  I18N.lang = answer.lang;
  I18N.messages = answer.messages;
  I18N.languages = answer.languages;
  document.documentElement.lang = answer.lang;
}

// The message `key` with its {placeholders} filled from `values`; the key itself if unknown (visible in tests).
function t(key, values) {
  let text = I18N.messages[key];
  if (text === undefined) return key;
  if (values) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  return text;
}

// Elements that say a fixed message: data-i18n (text), data-i18n-title (tooltip).
function translateStatic(root) {
  for (const el of (root || document).querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of (root || document).querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

function formatNumber(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString(I18N.lang === "id" ? "id-ID" : "en-GB",
    {minimumFractionDigits: digits, maximumFractionDigits: digits});
}
