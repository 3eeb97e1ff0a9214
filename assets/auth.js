/* A wall whose kiosk token was revoked: the next poll answers 403 "kiosk token revoked"; a
   large banner says so over the (now stale) wall instead of a silent freeze. */
(function () {
  "use strict";
  var realFetch = window.fetch.bind(window);
  function banner() {
    if (document.getElementById("gw-auth-banner")) { return; }
    var box = document.createElement("div");
    box.id = "gw-auth-banner";
    box.setAttribute("role", "alert");
    box.textContent = "大屏令牌已撤销 / kiosk token revoked — 请联系管理员（画面已停止更新）";
    document.body.appendChild(box);
  }
  window.fetch = function () {
    return realFetch.apply(null, arguments).then(function (resp) {
      if (resp.status === 403 || resp.status === 401) {
        resp.clone().text().then(function (text) {
          if (text.indexOf("kiosk token revoked") !== -1) { banner(); }
        });
      }
      return resp;
    });
  };
}());
