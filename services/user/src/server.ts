import { hello } from "@coupon/config"; console.log(hello(1));
