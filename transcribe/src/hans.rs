//! Traditional → simplified Chinese for whisper's output. The multilingual model often answers
//! Mandarin in traditional script (its training data), while 12348 transcripts are read in
//! simplified characters; the prompt nudges it, this table fixes what slips through. It covers
//! the commonest traditional characters (everyday words, legal and labour vocabulary), one
//! character each; a full OpenCC dictionary would be the next step.

/// Pairs of (traditional, simplified), concatenated.
const PAIRS: &str = "個个們们這这說说為为來来時时會会對对發发資资闆板沒没還还後后裡里麼么樣样過过國国\
學学現现話话問问題题電电錢钱幫帮請请謝谢東东車车長长開开關关見见從从讓让給给動动經经幾几點点種种\
機机場场產产進进實实當当與与應应錄录記记們们麵面歲岁於于並并無无業业區区醫医勞劳務务員员號号單单\
辦办處处條条權权訴诉訟讼離离婚婚賠赔償偿債债權权約约勞劳險险證证據据認认識识護护視视聽听讀读寫写\
買买賣卖價价貨货費费財财產产損损傷伤殺杀搶抢劫劫罰罚決决議议調调解解協协會会廳厅縣县鄉乡鎮镇\
農农廠厂倉仓庫库紀纪錯错誤误難难願愿歡欢喜喜氣气淚泪殺杀爭争鬥斗戰战擊击槍枪彈弹燒烧災灾險险\
親亲愛爱孩孩兒儿媽妈爺爷奶奶孫孙婦妇職职薪薪補补貼贴險险醫医療疗藥药病病傷伤殘残疾疾養养老老\
師师習习題题課课書书筆笔紙纸張张頁页冊册圖图畫画報报雜杂誌志網网絡络軟软體体硬硬碼码鍵键盤盘\
門门窗窗戶户廳厅樓楼層层屬属區区鄰邻聯联繫系線线絲丝綠绿紅红黃黄藍蓝顏颜色色聲声響响靜静熱热\
涼凉溫温暖暖飯饭菜菜湯汤魚鱼雞鸡鴨鸭豬猪馬马牛牛羊羊鳥鸟蟲虫樹树葉叶園园場场橋桥路路鐵铁飛飞\
機机輛辆船船運运輸输郵邮寄寄銀银行行帳账戶户貸贷款款額额稅税務务衛卫環环邊边遠远近近舊旧新新\
將将軍军隊队員员總总統统領领導导幹干部部書书記记黨党團团結结構构織织設设計计劃划規规則则標标準准\
態态度度範范圍围絕绝對对懷怀疑疑慮虑願愿義义務务責责任任擔担負负擁拥護护歷历史史傳传統统\
輕轻復复複复尋寻歸归盡尽儘尽訪访討讨";

/// Replaces every traditional character of the table by its simplified form.
pub fn to_simplified(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut it = PAIRS.chars();
            while let (Some(t), Some(s)) = (it.next(), it.next()) {
                if t == c {
                    return s;
                }
            }
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_traditional_characters_become_simplified() {
        assert_eq!(
            to_simplified("你好我個老闆看個月沒又發工資"),
            "你好我个老板看个月没又发工资"
        );
        assert_eq!(to_simplified("勞動合同，離婚訴訟"), "劳动合同，离婚诉讼");
        assert_eq!(
            to_simplified("已经是简体 and ASCII 123"),
            "已经是简体 and ASCII 123"
        );
    }

    /// Every Chinese risk keyword shipped in `dialplans/quality.toml`, spelt in traditional
    /// characters, must come back to the keyword, or a call whisper writes in traditional
    /// script would raise no alert.
    #[test]
    fn traditional_spellings_of_the_shipped_risk_keywords_become_the_keywords() {
        let traditional = [
            ("自殺", "自杀"),
            ("輕生", "轻生"),
            ("不想活", "不想活"),
            ("跳樓", "跳楼"),
            ("跳河", "跳河"),
            ("喝農藥", "喝农药"),
            ("割腕", "割腕"),
            ("尋死", "寻死"),
            ("殺了", "杀了"),
            ("殺人", "杀人"),
            ("砍人", "砍人"),
            ("報復", "报复"),
            ("同歸於盡", "同归于尽"),
            ("炸藥", "炸药"),
            ("爆炸", "爆炸"),
            ("放火", "放火"),
            ("打死", "打死"),
            ("集體上訪", "集体上访"),
            ("群體上訪", "群体上访"),
            ("上訪", "上访"),
            ("聚集", "聚集"),
            ("堵路", "堵路"),
            ("圍堵", "围堵"),
            ("討薪", "讨薪"),
        ];
        for (t, s) in traditional {
            assert_eq!(to_simplified(t), s, "{t}");
        }
        // the list above covers every Chinese keyword shipped; a new one needs a line here
        let mut shipped: Vec<String> = crate::QualityRules::default()
            .risk_keywords
            .into_iter()
            .filter(|k| !k.is_ascii())
            .collect();
        let mut covered: Vec<String> = traditional.iter().map(|p| p.1.to_string()).collect();
        shipped.sort();
        covered.sort();
        assert_eq!(shipped, covered);
    }

    #[test]
    fn table_is_pairs() {
        assert_eq!(PAIRS.chars().count() % 2, 0);
    }
}
