// The captcha's "another image" link and a click on the image fetch a fresh captcha (no page reload).
document.addEventListener("click", async (event) => {
  const trigger = event.target.closest("[data-captcha-refresh], [data-captcha-image]");
  if (!trigger) return;
  event.preventDefault();
  const group = trigger.closest(".zhtj-captcha");
  const link = group.querySelector("[data-captcha-refresh]");
  const response = await fetch(link.dataset.captchaRefresh, { headers: { "X-Requested-With": "XMLHttpRequest" } });
  if (!response.ok) return;
  const data = await response.json();
  group.querySelector("img.captcha").src = data.image_url;
  group.querySelector("input[name$='_0']").value = data.key;
  const audio = group.querySelector("[data-captcha-audio]");
  if (audio && data.audio_url) audio.href = data.audio_url;
  const answer = group.querySelector("input[name$='_1']");
  answer.value = "";
  answer.focus();
});
