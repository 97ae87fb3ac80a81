// UI text in Chinese and English. The language comes from the user's `lang` at login and can
// be switched in the header (remembered in localStorage). t('key', {n: 3}) fills {n}.

const zh = {
  title: '12348 公共法律服务热线', login: '登录', logout: '退出', username: '用户名',
  password: '密码', bad_login: '用户名或密码错误', none: '无', save: '保存', saved: '已保存',
  cancel: '取消', delete: '删除', add: '添加', refresh: '刷新', loading: '加载中…', open: '打开',
  nav_desk: '坐席', nav_wallboard: '实时监控', nav_tickets: '工单', nav_queue: '质检队列',
  nav_tasks: '回访任务', nav_stats: '统计', nav_admin: '管理',
  state: '状态', since: '起始', st_logged_out: '未签入', st_ready: '就绪', st_ringing: '振铃',
  st_busy: '通话中', st_after_call_work: '话后处理', st_not_ready: '未就绪',
  btn_ready: '就绪', btn_not_ready: '未就绪', btn_acw: '话后处理', btn_logged_out: '签出',
  wrapup_left: '话后处理剩余 {t}', my_status: '我的状态',
  pop_title: '来电弹屏', pop_waiting: '等待来电…', caller: '来电号码', region: '地区',
  language: '语言', service: '服务', queue_wait: '排队等待', earlier_tickets: '历史工单',
  lang_zh: '普通话', lang_en: '英语', lang_yue: '粤语',
  cat_consultation: '法律咨询', cat_legal_aid: '法律援助', cat_mediation: '人民调解',
  cat_complaint: '投诉建议', cat_other: '其他', cat_labour: '劳动', cat_marriage_family: '婚姻家庭',
  cat_land: '土地', cat_contract: '合同', cat_criminal: '刑事',
  ticket: '工单', ticket_form: '工单填写', category: '类别', notes: '备注', add_note: '追加备注',
  outcome: '处理结果', out_resolved: '已解答', out_referred: '已转介', out_legal_aid: '转法律援助',
  out_mediation: '转人民调解', out_callback: '需回电', out_complaint: '已登记投诉',
  out_other: '其他', save_ticket: '保存工单', ticket_saved: '工单已保存',
  ticket_pending: '通话结束后建立工单，稍后自动保存…', no_ticket: '没有可保存的工单',
  my_tasks: '我的回电任务', task_done: '完成', due: '到期', kind: '类型',
  kind_callback: '回电', kind_return_visit: '回访', my_tickets: '我的工单',
  number: '编号', status: '状态', created: '创建时间', updated: '更新时间', lawyer: '律师',
  red_alert: '红色预警', sla: 'SLA 超时', sla_review: '审核超时', sla_assign: '分派超时', sla_return_visit: '回访超时',
  acw_hint: '通话结束后自动进入话后处理', disp_answered: '已接通', disp_abandoned: '放弃',
  disp_after_hours: '非工作时间', disp_callback: '预约回电', disp_no_lawyer: '无律师可接',
  disp_voicemail: '留言',
  tk_open: '待处理', tk_in_progress: '处理中', tk_resolved: '已办结', tk_closed: '已关闭',
  tk_reopened: '重新打开',
  wb_waiting: '等待中', wb_longest: '最长等待', wb_answer_rate: '今日接通率',
  wb_calls_today: '今日来电', wb_overflow: '今日溢出', wb_sla: 'SLA 超时', wb_alerts: '红色预警',
  wb_active: '通话中', wb_waiting_by_region: '各地区等待', wb_lawyers: '律师状态',
  wb_live_alerts: '实时预警', wb_events: '实时事件',
  filter: '筛选', all: '全部', assign: '指派', assign_to: '指派给', review: '审核',
  calls: '通话', tasks: '任务', qa: '质检', score: '得分', comment: '评语',
  rv_title: '通话复核', rv_recording: '录音', rv_transcript: '对话', rv_no_recording: '没有录音',
  rv_no_transcript: '暂无转写', rv_transcript_status: '转写状态：{s}', rv_play: '播放',
  rv_pause: '暂停', spk_caller: '来电人', spk_lawyer: '律师', qa_form: '质检评分',
  qa_submit: '提交评分', qa_scored: '得分 {s}%', qa_previous: '已有评分',
  arrived: '来电时间', answered: '接听时间', ended: '结束时间', disposition: '结果',
  survey: '满意度', overflow_steps: '溢出次数',
  rq_reason: '原因', rq_sample: '随机抽检', rq_red_alert: '红色预警', rq_unsatisfied: '不满意',
  rq_evaluated: '已评', rq_added: '加入时间', yes: '是', no: '否',
  st_title: '统计', st_day: '日期', st_days: '天数', st_hourly: '每小时来电',
  st_daily_rate: '每日接通率', st_satisfaction: '满意度', st_categories: '按类别',
  st_regions: '按地区', st_calls: '来电', st_answered: '接通', st_rate: '接通率',
  sat_satisfied: '满意', sat_basic: '基本满意', sat_unsatisfied: '不满意',
  ad_users: '用户', ad_lawyers: '律师', ad_roster: '排班表 roster.toml', ad_add_user: '添加用户',
  ad_role: '角色', ad_name: '姓名', ad_lawyer_id: '律师编号', ad_region: '地区范围',
  ad_lang: '界面语言', ad_dialplan: '拨号计划文件', ad_file: '文件',
  ad_file_saved: '{f} 已保存并生效', ad_file_problems: '{f} 有错误，未保存：', ad_save_roster: '校验并保存', ad_roster_saved: '排班表已保存并生效',
  ad_problems: '排班表有错误，未保存：', role_lawyer: '律师', role_supervisor: '班长',
  role_admin: '管理员', ad_level: '级别', ad_parent: '上级', registered: '话机在线', skills: '技能', regions: '地区',
  confirm_delete: '删除用户 {u}？', not_allowed: '无权访问此页面', live_on: '实时连接',
  live_off: '实时连接断开',
};

const en = {
  title: '12348 Public Legal Service Hotline', login: 'Sign in', logout: 'Sign out',
  username: 'Username', password: 'Password', bad_login: 'Wrong username or password',
  none: 'None', save: 'Save', saved: 'Saved', cancel: 'Cancel', delete: 'Delete', add: 'Add',
  refresh: 'Refresh', loading: 'Loading…', open: 'Open',
  nav_desk: 'Desk', nav_wallboard: 'Wallboard', nav_tickets: 'Tickets', nav_queue: 'Review queue',
  nav_tasks: 'Return visits', nav_stats: 'Statistics', nav_admin: 'Admin',
  state: 'State', since: 'Since', st_logged_out: 'Logged out', st_ready: 'Ready',
  st_ringing: 'Ringing', st_busy: 'On a call', st_after_call_work: 'After-call work',
  st_not_ready: 'Not ready', btn_ready: 'Ready', btn_not_ready: 'Not ready',
  btn_acw: 'After-call work', btn_logged_out: 'Log out of queue', wrapup_left: 'Wrap-up left {t}',
  my_status: 'My status', pop_title: 'Incoming call', pop_waiting: 'Waiting for a call…',
  caller: 'Caller', region: 'Region', language: 'Language', service: 'Service',
  queue_wait: 'Queue wait', earlier_tickets: 'Earlier tickets', lang_zh: 'Mandarin',
  lang_en: 'English', lang_yue: 'Cantonese', cat_consultation: 'Legal consultation',
  cat_legal_aid: 'Legal aid', cat_mediation: 'Mediation', cat_complaint: 'Complaint',
  cat_other: 'Other', cat_labour: 'Labour', cat_marriage_family: 'Marriage and family', cat_land: 'Land',
  cat_contract: 'Contract', cat_criminal: 'Criminal', ticket: 'Ticket', ticket_form: 'Ticket', category: 'Category',
  notes: 'Notes', add_note: 'Add a note', outcome: 'Outcome', out_resolved: 'Answered',
  out_referred: 'Referred', out_legal_aid: 'Sent to legal aid', out_mediation: 'Sent to mediation',
  out_callback: 'Call back', out_complaint: 'Complaint filed', out_other: 'Other',
  save_ticket: 'Save ticket', ticket_saved: 'Ticket saved',
  ticket_pending: 'The ticket is filed when the call ends; saving then…',
  no_ticket: 'No ticket to save', my_tasks: 'My callbacks', task_done: 'Done', due: 'Due',
  kind: 'Kind', kind_callback: 'Callback', kind_return_visit: 'Return visit',
  my_tickets: 'My tickets', number: 'Number', status: 'Status', created: 'Created',
  updated: 'Updated', lawyer: 'Lawyer', red_alert: 'Red alert', sla: 'SLA breach', sla_review: 'review late', sla_assign: 'assignment late',
  sla_return_visit: 'return visit late', acw_hint: 'Wrap-up starts by itself when a call ends',
  disp_answered: 'Answered', disp_abandoned: 'Abandoned', disp_after_hours: 'After hours',
  disp_callback: 'Callback requested', disp_no_lawyer: 'No lawyer free', disp_voicemail: 'Message left',
  tk_open: 'Open', tk_in_progress: 'In progress', tk_resolved: 'Resolved', tk_closed: 'Closed',
  tk_reopened: 'Reopened',
  wb_waiting: 'Waiting', wb_longest: 'Longest wait', wb_answer_rate: 'Answer rate today',
  wb_calls_today: 'Calls today', wb_overflow: 'Overflows today', wb_sla: 'SLA breaches',
  wb_alerts: 'Red alerts', wb_active: 'Active calls', wb_waiting_by_region: 'Waiting by region',
  wb_lawyers: 'Lawyers by state', wb_live_alerts: 'Live alerts', wb_events: 'Live events',
  filter: 'Filter', all: 'All', assign: 'Assign', assign_to: 'Assign to', review: 'Review',
  calls: 'Calls', tasks: 'Tasks', qa: 'QA', score: 'Score', comment: 'Comment',
  rv_title: 'Call review', rv_recording: 'Recording', rv_transcript: 'Dialogue',
  rv_no_recording: 'No recording', rv_no_transcript: 'No transcript yet',
  rv_transcript_status: 'Transcript: {s}', rv_play: 'Play', rv_pause: 'Pause',
  spk_caller: 'Caller', spk_lawyer: 'Lawyer', qa_form: 'QA evaluation', qa_submit: 'Submit score',
  qa_scored: 'Score {s}%', qa_previous: 'Evaluations', arrived: 'Arrived', answered: 'Answered',
  ended: 'Ended', disposition: 'Disposition', survey: 'Satisfaction',
  overflow_steps: 'Overflows', rq_reason: 'Reason', rq_sample: 'Random sample',
  rq_red_alert: 'Red alert', rq_unsatisfied: 'Unsatisfied', rq_evaluated: 'Evaluated',
  rq_added: 'Added', yes: 'Yes', no: 'No', st_title: 'Statistics', st_day: 'Day',
  st_days: 'Days', st_hourly: 'Calls per hour', st_daily_rate: 'Answer rate by day',
  st_satisfaction: 'Satisfaction', st_categories: 'By category', st_regions: 'By region',
  st_calls: 'Calls', st_answered: 'Answered', st_rate: 'Answer rate',
  sat_satisfied: 'Satisfied', sat_basic: 'Basically satisfied', sat_unsatisfied: 'Unsatisfied',
  ad_users: 'Users', ad_lawyers: 'Lawyers', ad_roster: 'Roster (roster.toml)',
  ad_add_user: 'Add user', ad_role: 'Role', ad_name: 'Name', ad_lawyer_id: 'Lawyer id',
  ad_region: 'Region scope', ad_lang: 'UI language', ad_dialplan: 'Dialplan files', ad_file: 'File',
  ad_file_saved: '{f} saved and in force', ad_file_problems: '{f} has mistakes, not saved:', ad_save_roster: 'Check and save',
  ad_roster_saved: 'Roster saved and in force', ad_problems: 'The roster has mistakes, not saved:',
  role_lawyer: 'Lawyer', role_supervisor: 'Supervisor', role_admin: 'Admin', ad_level: 'Level', ad_parent: 'Parent',
  registered: 'Phone online', skills: 'Skills', regions: 'Regions',
  confirm_delete: 'Delete user {u}?', not_allowed: 'You may not open this page',
  live_on: 'Live', live_off: 'Live connection lost',
};

const dicts = { zh, en };
let current = localStorage.getItem('hotline.lang') || (navigator.language || 'zh').slice(0, 2);
if (!dicts[current]) current = 'zh';

/** The UI language, 'zh' or 'en'. */
export function lang() { return current; }

/** Switches the UI language; `remember` keeps the choice over the user's default. */
export function setLang(l, remember) {
  if (!dicts[l]) return;
  current = l;
  document.documentElement.lang = l;
  if (remember) localStorage.setItem('hotline.lang', l);
}

/** Whether the user picked a language in this browser (it then beats their profile's). */
export function langChosen() { return !!localStorage.getItem('hotline.lang'); }

/** The text for `key` in the UI language (the key itself when missing, so gaps show). */
export function t(key, vars) {
  let s = dicts[current][key] ?? dicts.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}

/** t() for a code with a prefix, falling back to the raw code (states, categories, ...). */
export function tc(prefix, code) {
  if (code === null || code === undefined || code === '') return '—';
  const k = `${prefix}_${code}`;
  const s = t(k);
  return s === k ? String(code) : s;
}
