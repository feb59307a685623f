/* linkcredit t.js: first-party storefront events, no cookies. Install: <script src="https://go.brand.com/t.js" defer>
 API: linkcredit.track("add_to_cart"), linkcredit.clickId(). Queued before load: window.linkcredit={q:[["track","add_to_cart"]]}. */
(()=>{"use strict";
const w=window,n=navigator,l=location,q=w.linkcredit,s=document.currentScript,M={},
R=/^[A-Za-z0-9_-]{21}[AQgw]$/,// 16 bytes, base64url
T=["page_view","product_view","add_to_cart","checkout_start"],
off=w.linkcredit_disabled===true||n.globalPrivacyControl===true;
if(q&&q.clickId)return;// loaded twice
let E,v;
try{E=new URL(s.src).origin+"/api/v1/events"}catch(e){}
// blocked storage (Safari private mode): memory
const get=k=>{if(k in M)return M[k];try{return localStorage.getItem(k)}catch(e){return null}},
set=(k,x)=>{M[k]=x;try{localStorage.setItem(k,x)}catch(e){}},
cid=()=>{if(off)return null;try{const o=JSON.parse(get("lc_cid"));if(o&&R.test(o.id)&&Date.now()-o.at<2592e6)return o.id}catch(e){}return null},
send=t=>{if(off||!E)return;
const b=JSON.stringify({type:t,visitor_id:v,click_id:cid()||void 0,url:l.href,occurred_at:Date.now()});
try{if(n.sendBeacon&&n.sendBeacon(E,b))return}catch(e){}// text/plain: no preflight
try{fetch(E,{method:"POST",body:b,keepalive:true,mode:"no-cors",credentials:"omit"}).catch(()=>{})}catch(e){}},
track=t=>{if(T.includes(t))send(t)};
if(!off)try{
const c=new URLSearchParams(l.search).get("lc_cid");
if(c&&R.test(c))set("lc_cid",JSON.stringify({id:c,at:Date.now()}));
v=get("lc_vid");
if(!v||!R.test(v)){
const b=crypto.getRandomValues(new Uint8Array(16));
set("lc_vid",v=btoa(String.fromCharCode(...b)).slice(0,22).replace(/\+/g,"-").replace(/\//g,"_"))}
}catch(e){}
w.linkcredit={track:function(t){track(t)},clickId:function(){return cid()}};
track("page_view");
if(/\/products?\//.test(l.pathname))track("product_view");// Shopify, WooCommerce
if(q&&Array.isArray(q.q))q.q.forEach(a=>{typeof a=="string"?track(a):a&&a[0]=="track"&&track(a[1])});
})();
