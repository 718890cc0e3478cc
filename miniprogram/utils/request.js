/**
 * The one place that talks to the BFF: base URL, bearer token, JSON, error envelope,
 * one silent re-login on 401, Idempotency-Key on request. Shows nothing itself.
 */
const config = require('../config');

const TOKEN_KEY = 'token';
const API_BASE_KEY = 'apiBase';
const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试';

/** An answer from the BFF that is not a success, or a failed connection (status 0). */
class ApiError extends Error {
  constructor({ code, message, details, status }) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details || {};
    this.status = status;
  }
}

/** The BFF address: a test global, then storage, then config.js. */
function apiBase() {
  const base = globalThis.__YIQIAO_API_BASE__ || wx.getStorageSync(API_BASE_KEY) || config.apiBase;
  return String(base).replace(/\/+$/, '');
}

function getToken() {
  return wx.getStorageSync(TOKEN_KEY) || '';
}

function buildQuery(query) {
  const parts = Object.keys(query || {})
    .filter((k) => query[k] !== undefined && query[k] !== null && query[k] !== '')
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k])}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function errorFromResponse(statusCode, body) {
  const envelope = body && typeof body === 'object' ? body.error : null;
  if (envelope && envelope.code) {
    return new ApiError({
      code: envelope.code,
      message: envelope.message || '请求未成功，请稍后重试',
      details: envelope.details,
      status: statusCode,
    });
  }
  // No envelope: a proxy or gateway answered, not the BFF.
  const message = statusCode >= 500 ? '服务暂时不可用，请稍后重试' : '请求未成功，请稍后重试';
  return new ApiError({ code: 'HTTP_ERROR', message, details: {}, status: statusCode });
}

function send({ method, url, data, headers }) {
  return new Promise((resolve, reject) => {
    wx.request({
      url,
      method,
      data,
      header: headers,
      dataType: 'json',
      success: (res) => resolve(res),
      fail: () => reject(new ApiError({ code: 'NETWORK_ERROR', message: NETWORK_MESSAGE, status: 0 })),
    });
  });
}

function wxLoginCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res && res.code
        ? resolve(res.code)
        : reject(new ApiError({ code: 'WX_LOGIN_FAILED', message: '微信登录失败，请重试', status: 0 }))),
      fail: () => reject(new ApiError({ code: 'WX_LOGIN_FAILED', message: '微信登录失败，请重试', status: 0 })),
    });
  });
}

let loginInFlight = null;

/** Logs in with wx.login → POST /api/v1/auth/wx-login and stores the token; concurrent calls share one login. */
function login() {
  if (!loginInFlight) {
    loginInFlight = wxLoginCode()
      .then((code) => send({
        method: 'POST',
        url: `${apiBase()}/api/v1/auth/wx-login`,
        data: { code },
        headers: { 'Content-Type': 'application/json' },
      }))
      .then((res) => {
        if (res.statusCode < 200 || res.statusCode >= 300) throw errorFromResponse(res.statusCode, res.data);
        wx.setStorageSync(TOKEN_KEY, res.data.token);
        return res.data;
      })
      .finally(() => {
        loginInFlight = null;
      });
  }
  return loginInFlight;
}

/** Forgets the stored token. */
function logout() {
  wx.removeStorageSync(TOKEN_KEY);
}

function attempt(options) {
  const headers = { 'Content-Type': 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
  return send({
    method: options.method || 'GET',
    url: `${apiBase()}${options.path}${buildQuery(options.query)}`,
    data: options.data,
    headers,
  });
}

/**
 * Sends one API request and resolves with the parsed body (null for 204), or with
 * {body, headers} when options.withHeaders is set (e.g. to read the server's Date).
 * options: {method, path, query, data, idempotencyKey, auth (default true), withHeaders}.
 */
async function request(options) {
  const auth = options.auth !== false;
  if (auth && !getToken()) await login();
  let res = await attempt(options);
  if (res.statusCode === 401 && auth) {
    await login();
    res = await attempt(options);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw errorFromResponse(res.statusCode, res.data);
  const body = res.statusCode === 204 ? null : res.data;
  return options.withHeaders ? { body, headers: res.header || {} } : body;
}

/** A response header by name, whatever its case (WeChat keeps the server's, node lowercases). */
function headerOf(headers, name) {
  const wanted = name.toLowerCase();
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === wanted);
  return key ? headers[key] : undefined;
}

module.exports = { request, headerOf, login, logout, getToken, apiBase, ApiError, TOKEN_KEY, API_BASE_KEY };
