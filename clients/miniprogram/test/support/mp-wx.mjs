// The stand-in `wx` of the mini program's tests: the SDK's (clients/sdk/test/support/fake-wx.mjs: wx.connectSocket
// on `ws` with no cookies and no Origin header, strings for text frames, ArrayBuffer for binary, wx.request on
// fetch, the app life cycle driven by the test) plus what the pages use besides: wx.login (a code from the WeChat
// stand-in's `POST /_standin/codes`, or `loginCode()`), wx.setStorageSync & co. (a Map), wx.chooseMedia (the
// test's `picked` files), wx.uploadFile (multipart over fetch), wx.previewImage/navigation (recorded),
// wx.requestSubscribeMessage (the user's answer from `subscribeAnswer`, "accept" unless the test says otherwise).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createFakeWx } from "../../../sdk/test/support/fake-wx.mjs";

export function createMiniProgramWx({ standinUrl = "", openid = "", loginCode, fetchImpl = globalThis.fetch } = {}) {
  const fake = createFakeWx({ fetchImpl });
  const storage = new Map();
  const calls = { navigate: [], reLaunch: [], preview: [], uploads: [], titles: [], subscribe: [] };
  fake.storage = storage;
  fake.calls = calls;
  fake.picked = []; // the next wx.chooseMedia answers with these paths (empty: the user cancelled)
  fake.subscribeAnswer = "accept"; // what the user taps in WeChat's subscribe dialog

  const codeFor = async () => {
    if (loginCode) return loginCode();
    const res = await fetchImpl(`${standinUrl}/_standin/codes`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ openid }),
    });
    return (await res.json()).code;
  };

  Object.assign(fake.wx, {
    login({ success, fail }) {
      codeFor().then((code) => success({ code, errMsg: "login:ok" }), (err) => fail?.({ errMsg: `login:fail ${err.message}` }));
    },
    setStorageSync: (key, value) => storage.set(key, JSON.parse(JSON.stringify(value))),
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ""),
    removeStorageSync: (key) => storage.delete(key),
    getAppBaseInfo: () => ({ language: "zh_CN" }),
    chooseMedia({ success, fail }) {
      const paths = fake.picked.splice(0);
      if (!paths.length) fail?.({ errMsg: "chooseMedia:fail cancel" });
      else success({ type: "image", tempFiles: paths.map((tempFilePath) => ({ tempFilePath, fileType: "image" })) });
    },
    uploadFile({ url, filePath, name, header = {}, formData = {}, success, fail }) {
      calls.uploads.push({ url, filePath, name, header });
      const form = new FormData();
      for (const [key, value] of Object.entries(formData)) form.append(key, value);
      form.append(name, new Blob([readFileSync(filePath)]), basename(filePath));
      fetchImpl(url, { method: "POST", headers: header, body: form })
        .then(async (res) => success?.({ statusCode: res.status, data: await res.text() })) // data: a string, as WeChat's
        .catch((err) => fail?.({ errMsg: `uploadFile:fail ${err.message}` }));
    },
    requestSubscribeMessage({ tmplIds, success }) {
      calls.subscribe.push(tmplIds);
      const answer = fake.subscribeAnswer;
      setImmediate(() => success?.({ errMsg: "requestSubscribeMessage:ok", ...Object.fromEntries(tmplIds.map((id) => [id, answer])) }));
    },
    previewImage: (options) => calls.preview.push(options),
    navigateTo: (options) => calls.navigate.push(options.url),
    reLaunch: (options) => calls.reLaunch.push(options.url),
    setNavigationBarTitle: (options) => calls.titles.push(options.title),
    stopPullDownRefresh: () => {},
  });
  return fake;
}
